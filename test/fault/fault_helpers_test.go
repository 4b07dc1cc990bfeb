package fault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/load"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// The fault tests run a few hundred events through a real `edgepurge
// serve` against the Cloudflare stand-in and a real Redis, break something
// mid-load, and then check the promise: every event answered 2xx has all
// its URLs purged at the stand-in after it arrived and all its keys gone
// from Redis, within a bounded time; every other answer is a status the
// caller retries (429, 502, 503); nothing else happened.

// TestMain builds the real binary once: the fault tests run it as
// `edgepurge serve` processes and as CLI commands.
func TestMain(m *testing.M) { proc.Main(m) }

// faultOptions shape one fault test's world.
type faultOptions struct {
	// privateRedis runs a test-owned redis-server (to kill it) instead of
	// the shared one.
	privateRedis bool
	// wrap, when set, stands in front of the stand-in's handler.
	wrap func(http.Handler) http.Handler
	// yaml is appended to the test config.
	yaml string
	// maxAge is journal.max_age; default 1h.
	maxAge time.Duration
	// breaker is cloudflare.breaker's body; default a short cooldown.
	breaker string
}

// faultEnv is one fault test's world: the stand-in, a Redis, and the
// config every edgepurge process of the test shares.
type faultEnv struct {
	t        *testing.T
	stub     *cfstub.Server
	redis    *redistest.Server // nil with the shared Redis
	redisURL string
	rdb      *redis.Client
	prefix   string
	config   string
	cfBase   string
}

func newFaultEnv(t *testing.T, o faultOptions) *faultEnv {
	t.Helper()
	e := &faultEnv{t: t, stub: cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}}), prefix: redistest.Prefix(t)}
	var h http.Handler = e.stub.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { e.stub.Close(); srv.Close() })
	e.cfBase = srv.URL + "/client/v4/"
	if o.privateRedis {
		e.redis = redistest.StartServer(t)
		e.redisURL = e.redis.URL()
		e.rdb = redistest.ClientOf(t, e.redis.Addr())
	} else {
		e.redisURL = "redis://" + redistest.SharedAddr + "/0"
		e.rdb = redistest.ClientOf(t, redistest.SharedAddr)
	}
	if o.maxAge == 0 {
		o.maxAge = time.Hour
	}
	if o.breaker == "" {
		o.breaker = "cooldown: 300ms"
	}
	// A short deadline and a fast re-driver keep each test within ~20 s;
	// the budget is far above what the load needs, so that only the
	// injected fault fails anything.
	cfg := fmt.Sprintf(`server:
  purge_timeout: 1s
  drain_delay: 300ms
  shutdown_timeout: 10s
cloudflare:
  breaker: {%[4]s}
  rate_limit:
    urls_per_second: 100000
    calls_per_second: 1000
    account: "%[1]s"
registry:
  prefix: "%[1]spage:"
dedupe:
  prefix: "%[1]sseen:"
audit:
  stream: "%[1]saudit"
journal:
  stream: "%[1]sjournal"
  poll: 50ms
  claim_idle: 1s
  max_age: %[2]s
%[3]s`, e.prefix, o.maxAge, o.yaml, o.breaker)
	e.config = filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// env is the environment of every edgepurge process of the test.
func (e *faultEnv) env(extra ...string) []string {
	return append(append(os.Environ(),
		"EDGEPURGE_CONFIG="+e.config,
		"CLOUDFLARE_API_TOKEN="+proc.CFToken,
		"CLOUDFLARE_ZONE_ID="+proc.Zone,
		"CLOUDFLARE_BASE_URL="+e.cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_KEYS="+e.prefix+"statuspage:{page_id}:summary",
		"EDGEPURGE_API_TOKEN="+proc.APIToken,
		"REDIS_URL="+e.redisURL,
	), extra...)
}

// serve starts `edgepurge serve` and waits until it is ready.
func (e *faultEnv) serve() *proc.Proc {
	e.t.Helper()
	p := e.serveLive()
	p.WaitReady(e.t)
	return p
}

// serveLive starts `edgepurge serve` and waits until it serves (/healthz),
// ready or not: with the CDN down, readiness stays red (token check,
// breaker) but the instance serves and re-drives.
func (e *faultEnv) serveLive() *proc.Proc {
	e.t.Helper()
	addr := proc.FreeAddr(e.t)
	cmd := exec.Command(proc.Binary(), "serve")
	cmd.Env = e.env("EDGEPURGE_LISTEN=" + addr)
	p := &proc.Proc{Cmd: cmd, Base: "http://" + addr, Logs: &syncbuf.Buffer{}, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.Done <- cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.Done
		if e.t.Failed() {
			e.t.Logf("logs of edgepurge pid %d:\n%s", cmd.Process.Pid, tail(p.Logs.String(), 6000))
		}
	})
	for range 500 {
		resp, err := http.Get(p.Base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("edgepurge never served; logs:\n%s", p.Logs.String())
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// sent is one event of the load and what came of it.
type sent = load.Sent

// counts sums up a load's answers, for the test log and the report.
type counts = load.Counts

// faultLoad sends events to a target that can change (a second instance).
type faultLoad struct {
	*load.Load
	target atomic.Pointer[string]
}

// startLoad sends n events with workers concurrent senders, each pausing
// pace between events. Each event is a manual purge of its own page (11
// URLs on its host, one Redis key written just before it is sent).
func (e *faultEnv) startLoad(base string, n, workers int, pace time.Duration) *faultLoad {
	l := &faultLoad{}
	l.target.Store(&base)
	l.Load = load.Start(n, workers, pace, func(client *http.Client, i int) sent {
		page := fmt.Sprintf("f%d", i)
		load.SetKey(e.rdb, e.prefix+"statuspage:"+page+":summary")
		body := fmt.Sprintf(`{"page_id":%q,"incident_id":"inc%d"}`, page, i)
		s := load.Post(client, *l.target.Load(), "/v1/purge", []byte(body), map[string]string{"Authorization": "Bearer " + proc.APIToken})
		s.Page = page
		return s
	})
	return l
}

// invariant checks the promise over events and logs the counts. allowCut
// permits requests that reached the server and got no answer (the process
// was SIGKILLed). excused lists event pages whose 2xx may be met by a dead
// letter instead of a purge.
func (e *faultEnv) invariant(events []sent, within time.Duration, allowCut bool, excused func(page string) bool) counts {
	e.t.Helper()
	chk := load.Check{Stub: e.stub, Redis: e.rdb, KeyPrefix: e.prefix, Poll: 100 * time.Millisecond, KeyTimeout: time.Second}
	c := chk.Invariant(e.t, events, within, allowCut, excused)
	e.t.Logf("%s", c)
	return c
}

// journalLen is how many entries the test's journal holds.
func (e *faultEnv) journalLen() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, _ := e.rdb.XLen(ctx, e.prefix+"journal").Result()
	return n
}

// metricValue reads one metric's value from a running instance's
// /metrics ("" when absent).
func metricValue(t *testing.T, p *proc.Proc, name string) string {
	t.Helper()
	resp, err := http.Get(p.Base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte(name+" ")); ok {
			return string(v)
		}
	}
	return ""
}
