package e2e

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/varnish"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/fastlystub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

const (
	fastlyToken   = "fastly-token-do-not-leak"
	fastlyService = "SU1Z0isxPaozGVKXdv0eY"
)

// startFastly runs edgepurge with Fastly (the stand-in) as its only CDN,
// beside Redis, for the harness's page p0 (two hosts, a tag, keys).
func startFastly(t *testing.T, opts fastlystub.Options, edit func(cfg *config.Config)) (*harness.H, *fastlystub.Server) {
	t.Helper()
	opts.Tokens = []string{fastlyToken}
	stub := fastlystub.New(opts)
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	prefix := redistest.Prefix(t)
	cfg := harness.BaseConfig(prefix, "redis://"+redistest.SharedAddr+"/0", "")
	cfg.Cloudflare = cloudflare.Config{}
	cfg.Fastly = fastly.Config{
		APIToken: fastlyToken, ServiceID: fastlyService, BaseURL: base,
		RateLimit: ratelimit.Config{Account: prefix},
	}
	if edit != nil {
		edit(cfg)
	}
	h := harness.StartWith(t, cfg, nil, prefix)
	h.WaitReady()
	return h, stub
}

// A signed hook purges the page's URLs one call each, its tag as a
// surrogate key of the default service, and its Redis keys; the answer
// has a fastly result.
func TestFastlyAndRedis(t *testing.T) {
	h, stub := startFastly(t, fastlystub.Options{}, nil)
	rdb := redistest.Client(t)
	key := h.Prefix + "statuspage:p0:summary"
	rdb.Set(t.Context(), key, "old", time.Hour)

	sent := time.Now()
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	results := map[string]chain.BackendResult{}
	for _, r := range a.Results {
		results[r.Backend] = r
	}
	urls := len(a.Plan.URLs)
	if f := results["fastly"]; a.Status != chain.StatusPurged || f.Status != chain.BackendOK || f.Items != urls+1 {
		t.Fatalf("answer %s", raw)
	}
	if rdb.Exists(t.Context(), key).Val() != 0 {
		t.Error("the Redis key is still there")
	}
	purged := stub.Purged(fastlyService)
	if at, ok := purged["page:p0"]; !ok || at.Before(sent) {
		t.Errorf("surrogate key page:p0 not purged in service %s: %v", fastlyService, purged)
	}
	urlPurges := 0
	for _, c := range stub.PurgeCalls() {
		if c.Kind == fastlystub.KindURL {
			urlPurges++
		}
	}
	if urlPurges != urls {
		t.Errorf("%d URL purge calls for %d URLs", urlPurges, urls)
	}
	if n := h.Counter("edgepurge_cdn_requests_total", map[string]string{"backend": "fastly", "zone": fastlyService, "status": "200"}); n != 1 {
		t.Errorf("key purge calls counted: %v", n)
	}
	if _, body := h.Get("/readyz?verbose"); !strings.Contains(body, `"fastly service `+fastlyService+`"`) || strings.Contains(body, fastlyToken) {
		t.Errorf("readyz: want the service's check, never the token: %s", body)
	}
}

// Soft purge, per page: the page's soft_purge marks URLs and keys stale.
func TestFastlySoftPurgePerPage(t *testing.T) {
	soft := true
	h, stub := startFastly(t, fastlystub.Options{}, func(cfg *config.Config) {
		p := cfg.Pages[harness.TestPage]
		p.SoftPurge = &soft
		cfg.Pages[harness.TestPage] = p
	})
	if code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent)); code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	calls := stub.PurgeCalls()
	if len(calls) == 0 {
		t.Fatal("no purge call")
	}
	for _, c := range calls {
		if !c.Soft {
			t.Errorf("call %s %s not soft", c.Method, c.Path)
		}
	}
	// A manual purge of another page is hard.
	if code, raw := h.ManualPurge(`{"tags":["other"]}`); code != http.StatusOK {
		t.Fatalf("manual: %d %s", code, raw)
	}
	if c := stub.PurgeCalls(); c[len(c)-1].Soft {
		t.Error("the manual purge was soft")
	}
}

// Hosts and prefixes cannot be purged on Fastly: refused before anything is
// purged (422, naming the problem), not half done.
func TestFastlyRefusesHostAndPrefixPurges(t *testing.T) {
	h, stub := startFastly(t, fastlystub.Options{}, nil)
	for _, body := range []string{`{"hosts":["p0.status.example.com"]}`, `{"prefixes":["p0.status.example.com/api/"]}`} {
		code, raw := h.ManualPurge(body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "fastly cannot purge by hostname or prefix") {
			t.Errorf("%s: %d %s", body, code, raw)
		}
	}
	if n := len(stub.PurgeCalls()); n != 0 {
		t.Errorf("%d purge calls", n)
	}
}

// Fastly failing: a 5xx run is retried and purged; a 429 with Fastly's
// rate-limit headers is waited out; a hang is journaled (202) and
// re-driven once Fastly answers again.
func TestFastlyFailures(t *testing.T) {
	t.Run("5xx then ok", func(t *testing.T) {
		h, stub := startFastly(t, fastlystub.Options{}, nil)
		stub.SetFailure(fastlystub.Failure{Status: 503, Count: 2})
		code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
		if code != http.StatusOK || harness.DecodeAnswer(t, raw).Status != chain.StatusPurged {
			t.Fatalf("%d %s", code, raw)
		}
		if n := h.Counter("edgepurge_cdn_retries_total", map[string]string{"backend": "fastly", "reason": "5xx"}); n < 1 {
			t.Errorf("fastly retries counted: %v", n)
		}
	})
	t.Run("429 with the rate-limit headers", func(t *testing.T) {
		h, stub := startFastly(t, fastlystub.Options{PurgeRate: 20, PurgeBurst: 5, OmitRetryAfter: true}, nil)
		code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, raw)
		}
		if stub.Throttled() == 0 {
			t.Error("the stand-in never throttled: the test proves nothing")
		}
		if n := h.Counter("edgepurge_cdn_throttled_total", map[string]string{"backend": "fastly", "kind": "urls"}); n < 1 {
			t.Errorf("429s counted: %v", n)
		}
	})
	t.Run("hang then journaled and re-driven", func(t *testing.T) {
		h, stub := startFastly(t, fastlystub.Options{}, func(cfg *config.Config) {
			cfg.Server.PurgeTimeout = time.Second
			cfg.Journal.Poll = 50 * time.Millisecond
			cfg.Journal.ClaimIdle = time.Second
		})
		stub.Hang(true)
		code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
		if code != http.StatusAccepted || harness.DecodeAnswer(t, raw).Status != chain.StatusJournaled {
			t.Fatalf("hanging Fastly: %d %s", code, raw)
		}
		stub.Hang(false)
		stub.Reset()
		deadline := time.Now().Add(harness.DefaultTestWait)
		for time.Now().Before(deadline) {
			if _, ok := stub.Purged(fastlyService)["page:p0"]; ok {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Error("the journal never re-drove the Fastly part")
	})
}

// Varnish, Fastly and Cloudflare together, purged inner to outer: each CDN
// call arrives after the one before it answered.
func TestThreeCDNsInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		if len(order) == 0 || order[len(order)-1] != name {
			order = append(order, name)
		}
	}
	varnishNode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note("varnish")
		time.Sleep(20 * time.Millisecond)
	}))
	t.Cleanup(varnishNode.Close)
	fst := fastlystub.New(fastlystub.Options{Tokens: []string{fastlyToken}})
	fbase := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			note("fastly")
		}
		fst.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { fbase.Close(); fst.Close() })
	cf := cfstub.New(cfstub.Options{Tokens: []string{harness.TestCFToken}})
	cbase := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			note("cloudflare")
		}
		cf.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { cbase.Close(); cf.Close() })

	prefix := redistest.Prefix(t)
	cfg := harness.BaseConfig(prefix, "redis://"+redistest.SharedAddr+"/0", cbase.URL+"/client/v4/")
	cfg.Varnish = varnish.Config{Nodes: []string{varnishNode.URL}}
	cfg.Fastly = fastly.Config{APIToken: fastlyToken, ServiceID: fastlyService, BaseURL: fbase.URL, RateLimit: ratelimit.Config{Account: prefix}}
	h := harness.StartWith(t, cfg, cf, prefix)
	h.WaitReady()
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"varnish", "fastly", "cloudflare"}; !slices.Equal(order, want) {
		t.Errorf("CDN calls in the order %q, want %q", order, want)
	}
	var backends []string
	for _, r := range harness.DecodeAnswer(t, raw).Results {
		backends = append(backends, r.Backend)
	}
	if want := []string{"varnish", "fastly", "cloudflare", "redis"}; !slices.Equal(backends, want) {
		t.Errorf("results %q, want %q", backends, want)
	}
}
