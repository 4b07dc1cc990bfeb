package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/load"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// webhookSecret signs the core app's events of these tests.
const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// cacheTTL is registry.cache_ttl of every instance.
const cacheTTL = time.Second

// Redis keys the tests look at (the defaults of the config).
const (
	journalStream = "edgepurge:journal"
	journalGroup  = "edgepurge"
	registryKey   = "edgepurge:page:"
	// urlBucketKey is the shared URL budget's GCRA key: redis_rate's
	// "rate:" before the limiter's prefix, the account, the plan and the
	// bucket.
	urlBucketKey = "rate:edgepurge:ratelimit:default:pro:urls"
)

// topology is a Redis deployment the instances share.
type topology struct {
	mode string // redis.mode
	url  string // redis.url
	// rdb is the test's own client of it, following failovers.
	rdb redis.UniversalClient
	// killPrimary SIGKILLs the primary serving key and returns it with a
	// function that waits for a replica's promotion in its place.
	killPrimary func(ctx context.Context, key string) (string, func(context.Context) (string, error), error)
}

// scaleEnv is one topology's world: the Cloudflare stand-in with Pro's
// buckets, the config, and the edgepurge instances.
type scaleEnv struct {
	t      *testing.T
	topo   topology
	stub   *cfstub.Server
	cfBase string
	config string
	all    []*instance // every instance ever started, for the log checks
}

// instance is one `edgepurge serve` process.
type instance struct {
	*proc.Proc
	name string
	pid  int
}

func newScaleEnv(t *testing.T, topo topology) *scaleEnv {
	t.Helper()
	// Cloudflare's Pro plan: 1,500 single-file URLs a second (a bucket of
	// 1,500), 5 tag/host/prefix calls a second (a bucket of 25), per account.
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}, URLRate: 1500, URLBurst: 1500, FlexRate: 5, FlexBurst: 25})
	srv := httptest.NewServer(stub.Handler())
	t.Cleanup(func() { stub.Close(); srv.Close() })
	e := &scaleEnv{t: t, topo: topo, stub: stub, cfBase: srv.URL + "/client/v4/"}
	cfg := fmt.Sprintf(`server:
  purge_timeout: 2s
  request_timeout: 4s
  drain_delay: 100ms
  shutdown_timeout: 5s
redis:
  url: %q
  mode: %s
cloudflare:
  plan: pro
  breaker: {cooldown: 300ms}
registry:
  cache_ttl: %s
journal:
  poll: 50ms
  claim_idle: 1s
`, topo.url, topo.mode, cacheTTL)
	e.config = filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// serve starts an instance and waits until it is ready with every check,
// the shared ones included, passing. env adds to the test's environment.
func (e *scaleEnv) serve(name string, env ...string) *instance {
	e.t.Helper()
	addr := proc.FreeAddr(e.t)
	cmd := exec.Command(proc.Binary(), "serve")
	cmd.Env = append(os.Environ(), append(e.env("EDGEPURGE_LISTEN="+addr), env...)...)

	p := &proc.Proc{Cmd: cmd, Base: "http://" + addr, Logs: &syncbuf.Buffer{}, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.Done <- cmd.Wait() }()
	in := &instance{Proc: p, name: name, pid: cmd.Process.Pid}
	e.all = append(e.all, in)
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.Done
		if e.t.Failed() {
			e.t.Logf("logs of %s (pid %d):\n%s", name, in.pid, tail(p.Logs.String(), 5000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, err := readyz(in); err == nil && allOK(r.Checks) {
			return in
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never had every check passing; logs:\n%s", name, tail(p.Logs.String(), 5000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allOK(checks []health.Status) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return len(checks) > 0
}

// variant writes a copy of the config with old replaced by new and
// returns the environment that uses it.
func (e *scaleEnv) variant(old, new string) []string {
	e.t.Helper()
	b, err := os.ReadFile(e.config)
	if err != nil || !strings.Contains(string(b), old) {
		e.t.Fatalf("config variant: %q not in the config (%v)", old, err)
	}
	p := filepath.Join(e.t.TempDir(), "variant.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return []string{"EDGEPURGE_CONFIG=" + p}
}

// env is the environment of every edgepurge process and command of the
// test, on top of the machine's.
func (e *scaleEnv) env(extra ...string) []string {
	return append([]string{
		"EDGEPURGE_CONFIG=" + e.config,
		"REDIS_URL=" + e.topo.url,
		"CLOUDFLARE_API_TOKEN=" + proc.CFToken,
		"CLOUDFLARE_ZONE_ID=" + proc.Zone,
		"CLOUDFLARE_BASE_URL=" + e.cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_KEYS=statuspage:{page_id}:summary",
		"EDGEPURGE_API_TOKEN=" + proc.APIToken,
		"EDGEPURGE_WEBHOOK_SECRETS=" + webhookSecret,
		// A failover lasts seconds: the redis check must turn red within
		// it, at the first failed probe (they run every second), and the
		// CDN probes would mix into the calls the suite counts.
		"EDGEPURGE_READINESS_WINDOW=100ms",
		"EDGEPURGE_PROBE_DISABLED=true",
	}, extra...)
}

// alive reports whether the instance's process is still running.
func (in *instance) alive() bool {
	select {
	case err := <-in.Done:
		in.Done <- err
		return false
	default:
		return true
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// verbose is the body of /readyz?verbose.
type verbose struct {
	Ready  bool            `json:"ready"`
	Checks []health.Status `json:"checks"`
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

// eventClient sends single events; its timeout is well past
// server.request_timeout.
var eventClient = &http.Client{Timeout: 30 * time.Second}

func readyz(in *instance) (verbose, error) {
	var v verbose
	resp, err := probeClient.Get(in.Base + "/readyz?verbose")
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v, err
}

func (v verbose) check(name string) (health.Status, bool) {
	for _, c := range v.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return health.Status{}, false
}

// sent is one event of a load and what came of it.
type sent = load.Sent

// counts sum up a load's answers.
type counts = load.Counts

// scaleLoad is the shared load generator: events spread round-robin over
// the instances in targets, which the test may change (an instance killed).
type scaleLoad struct {
	*load.Load
	targets atomic.Pointer[[]*instance]
}

// loadOptions shape a load.
type loadOptions struct {
	prefix    string        // page ids are prefix + index
	n         int           // events
	workers   int           // concurrent senders
	pace      time.Duration // each sender's pause between events
	extraURLs int           // URLs each event names on top of its page's 11
}

// startLoad sends o.n manual purges, each of its own page (11 URLs on its
// host plus o.extraURLs, and one Redis key written just before it is sent).
func (e *scaleEnv) startLoad(targets []*instance, o loadOptions) *scaleLoad {
	l := &scaleLoad{}
	l.targets.Store(&targets)
	l.Load = load.Start(o.n, o.workers, o.pace, func(client *http.Client, i int) sent {
		page := fmt.Sprintf("%s%d", o.prefix, i)
		load.SetKey(e.topo.rdb, "statuspage:"+page+":summary")
		targets := *l.targets.Load()
		in := targets[i%len(targets)]
		urls := make([]string, o.extraURLs)
		for j := range urls {
			urls[j] = fmt.Sprintf("https://%s.status.example.com/extra/%d", page, j)
		}
		body, _ := json.Marshal(map[string]any{"page_id": page, "incident_id": fmt.Sprintf("inc%d", i), "urls": urls})
		s := e.post(client, in, "/v1/purge", body, map[string]string{"Authorization": "Bearer " + proc.APIToken})
		s.Page = page
		return s
	})
	return l
}

// post sends one request and records its answer.
func (e *scaleEnv) post(client *http.Client, in *instance, path string, body []byte, headers map[string]string) sent {
	s := load.Post(client, in.Base, path, body, headers)
	s.To = in.name
	return s
}

// hook sends a signed core-app event with webhook-id id.
func (e *scaleEnv) hook(in *instance, id string, body []byte) sent {
	e.t.Helper()
	now := time.Now()
	sig, err := webhook.Sign(webhookSecret, id, now, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(eventClient, in, "/v1/hooks/events", body, map[string]string{
		"webhook-id": id, "webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": sig,
	})
}

// purge sends one manual purge of page to in.
func (e *scaleEnv) purge(in *instance, page string) sent {
	body, _ := json.Marshal(map[string]any{"page_id": page})
	s := e.post(eventClient, in, "/v1/purge", body, map[string]string{"Authorization": "Bearer " + proc.APIToken})
	s.Page = page
	return s
}

// invariant checks the promise over events: every 2xx has all its URLs
// purged at the stand-in after it arrived and its keys gone, within
// `within`; every other answer is a status the caller retries. allowCut
// permits requests that reached a SIGKILLed instance and got no answer.
func (e *scaleEnv) invariant(events []sent, within time.Duration, allowCut bool) counts {
	e.t.Helper()
	chk := load.Check{Stub: e.stub, Redis: e.topo.rdb, ExtraURLs: true, Poll: 200 * time.Millisecond, KeyTimeout: 2 * time.Second}
	return chk.Invariant(e.t, events, within, allowCut, nil)
}

// metric sums the samples of a metric (every label set) on an instance.
func metric(t *testing.T, in *instance, name string) float64 {
	t.Helper()
	resp, err := probeClient.Get(in.Base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics of %s: %v", in.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+" ") && !strings.HasPrefix(l, name+"{") {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v); err == nil {
			sum += v
		}
	}
	return sum
}

// waitUntil polls cond every 50 ms, failing the test after within.
func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
