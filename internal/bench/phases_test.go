package bench

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func names(ps []Phase) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestSelectPhases(t *testing.T) {
	for _, c := range []struct {
		list string
		want []string
	}{
		{"all", []string{"hot", "hot-latency", "many", "many-cover", "overhead", "bare", "naive"}},
		{"many", []string{"many", "many-cover"}},
		{"naive,hot", []string{"hot", "hot-latency", "naive"}},
		{"overhead", []string{"overhead", "bare"}},
		{" bare , hot-latency ", []string{"hot-latency", "bare"}},
	} {
		ps, err := SelectPhases(c.list)
		if err != nil || !reflect.DeepEqual(names(ps), c.want) {
			t.Errorf("%q: %v %v, want %v", c.list, names(ps), err, c.want)
		}
	}
	for _, bad := range []string{"", "hott", "hot,storm"} {
		if _, err := SelectPhases(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseConcurrency(t *testing.T) {
	got, err := ParseConcurrency("64, hot=1000,many=8")
	want := map[string]int{"*": 64, "hot": 1000, "many": 8}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"0", "hot=x", "-3", "hot="} {
		if _, err := ParseConcurrency(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	cfg := Config{Concurrency: map[string]int{"*": 4, "many": 9}}
	if c := cfg.concurrency(Phase{Name: "many", Concurrency: 256}); c != 9 {
		t.Errorf("many = %d", c)
	}
	if c := cfg.concurrency(Phase{Name: "hot", Concurrency: 1000}); c != 4 {
		t.Errorf("hot = %d", c)
	}
	if c := (Config{}).concurrency(Phase{Name: "hot", Concurrency: 1000}); c != 1000 {
		t.Errorf("default = %d", c)
	}
}

func TestStubBucketBounds(t *testing.T) {
	s := StubSpec{Latency: 50 * time.Millisecond, URLRate: 1500}
	if s.urlBurst() != 1500 || s.urlsPerSecondAllowed() != 3000 || s.maxItems() != 100 {
		t.Errorf("burst %d, allowed %d, max items %d", s.urlBurst(), s.urlsPerSecondAllowed(), s.maxItems())
	}
	small := StubSpec{URLRate: 10, MaxItemsPerCall: 500}
	if small.urlBurst() != 500 || small.urlsPerSecondAllowed() != 510 {
		t.Errorf("small: burst %d, allowed %d", small.urlBurst(), small.urlsPerSecondAllowed())
	}
	if (StubSpec{}).urlsPerSecondAllowed() != 0 {
		t.Error("no bucket allows a finite rate")
	}
}

func TestServerConfigMatchesStandIn(t *testing.T) {
	s := serverSpec{id: "edgepurge-bench-x", stub: StubSpec{URLRate: 1500, MaxItemsPerCall: 100}, purgeTimeout: 10 * time.Second, logLevel: "info"}
	want := `# written by edgepurge-bench
log:
  level: info
  format: json
server:
  purge_timeout: 10s
  drain_delay: 10ms
  shutdown_timeout: 15s
cloudflare:
  max_urls_per_call: 100
  rate_limit:
    urls_per_second: 1500
    url_burst: 1500
    account: "edgepurge-bench-x"
registry:
  prefix: "edgepurge-bench-x:page:"
dedupe:
  prefix: "edgepurge-bench-x:seen:"
audit:
  stream: "edgepurge-bench-x:audit"
journal:
  stream: "edgepurge-bench-x:journal"
`
	if got := s.configYAML(); got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	s.stub = StubSpec{}
	if got := s.configYAML(); !strings.Contains(got, "urls_per_second: 1000000000\n    url_burst: 1000000000\n") {
		t.Errorf("no-bucket config:\n%s", got)
	}
}

func TestCleanEnvDropsServerSettings(t *testing.T) {
	got := cleanEnv([]string{"PATH=/bin", "EDGEPURGE_LISTEN=:1", "CLOUDFLARE_API_TOKEN=x", "REDIS_URL=redis://elsewhere", "HOME=/h", "REDIS_URLX=1"})
	want := []string{"PATH=/bin", "HOME=/h", "REDIS_URLX=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
