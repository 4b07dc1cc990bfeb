package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/test/cfstub"
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
type sent struct {
	page string
	at   time.Time
	code int
	// err is a transport failure; refused says the connection was never
	// accepted (nothing reached the server).
	err     error
	refused bool
	answer  fanout.Answer
}

// load sends events to a target that can change (a second instance).
type load struct {
	env     *faultEnv
	target  atomic.Pointer[string]
	next    atomic.Int64
	done    atomic.Int64
	events  []sent
	wg      sync.WaitGroup
	client  *http.Client
	workers int
}

// startLoad sends n events with workers concurrent senders, each pausing
// pace between events. Each event is a manual purge of its own page (11
// URLs on its host, one Redis key written just before it is sent).
func (e *faultEnv) startLoad(base string, n, workers int, pace time.Duration) *load {
	l := &load{env: e, events: make([]sent, n), workers: workers,
		// A new connection per request: an idle keep-alive connection
		// closed by a draining server would pass for a request cut off.
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	l.target.Store(&base)
	for range workers {
		l.wg.Go(func() {
			for {
				i := int(l.next.Add(1)) - 1
				if i >= n {
					return
				}
				l.send(i)
				l.done.Add(1)
				time.Sleep(pace)
			}
		})
	}
	return l
}

func (l *load) send(i int) {
	e := l.env
	page := fmt.Sprintf("f%d", i)
	// The key exists before the event: its absence later proves the purge.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = e.rdb.Set(ctx, e.prefix+"statuspage:"+page+":summary", "cached", 0).Err()
	cancel()
	s := sent{page: page, at: time.Now()}
	body := fmt.Sprintf(`{"page_id":%q,"incident_id":"inc%d"}`, page, i)
	req, _ := http.NewRequest(http.MethodPost, *l.target.Load()+"/v1/purge", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+proc.APIToken)
	resp, err := l.client.Do(req)
	if err != nil {
		var op *net.OpError
		s.err, s.refused = err, errors.As(err, &op) && op.Op == "dial"
		l.events[i] = s
		return
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.code = resp.StatusCode
	if err != nil {
		s.err = fmt.Errorf("read answer: %w", err)
	} else if jerr := json.Unmarshal(raw, &s.answer); jerr != nil && s.code < 300 {
		s.err = fmt.Errorf("2xx answer is not JSON: %w: %s", jerr, raw)
	}
	l.events[i] = s
}

// waitSent waits until n events were answered (or failed).
func (l *load) waitSent(n int) {
	for l.done.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
}

// wait waits for the whole load and returns its events.
func (l *load) wait() []sent {
	l.wg.Wait()
	return l.events
}

// counts sums up a load's answers, for the test log and the report.
type counts struct {
	events, ok200, accepted202, failed5xx, throttled429, refused, cut int
	byCode                                                            map[int]int
}

func (c counts) String() string {
	return fmt.Sprintf("%d events: %d answered 2xx (%d × 200, %d × 202), %d × 5xx, %d × 429 %v, %d refused before reaching the server, %d transport errors after",
		c.events, c.ok200+c.accepted202, c.ok200, c.accepted202, c.failed5xx, c.throttled429, c.byCode, c.refused, c.cut)
}

// invariant checks the promise over events and logs the counts. allowCut
// permits requests that reached the server and got no answer (the process
// was SIGKILLed). excused lists event pages whose 2xx may be met by a dead
// letter instead of a purge.
func (e *faultEnv) invariant(events []sent, within time.Duration, allowCut bool, excused func(page string) bool) counts {
	t := e.t
	t.Helper()
	c := counts{events: len(events), byCode: map[int]int{}}
	var owed []sent
	for _, s := range events {
		switch {
		case s.err != nil && s.refused:
			c.refused++
		case s.err != nil:
			c.cut++
			if !allowCut {
				t.Errorf("event %s: no answer: %v", s.page, s.err)
			}
		case s.code == http.StatusOK:
			c.ok200++
			if s.answer.Status != fanout.StatusPurged {
				t.Errorf("event %s: 200 with status %q", s.page, s.answer.Status)
			}
			owed = append(owed, s)
		case s.code == http.StatusAccepted:
			c.accepted202++
			if s.answer.Status != fanout.StatusJournaled || s.answer.JournalID == "" {
				t.Errorf("event %s: 202 with status %q, journal id %q", s.page, s.answer.Status, s.answer.JournalID)
			}
			owed = append(owed, s)
		case s.code == http.StatusTooManyRequests:
			c.throttled429++
			c.byCode[s.code]++
		case s.code == http.StatusBadGateway || s.code == http.StatusServiceUnavailable:
			c.failed5xx++
			c.byCode[s.code]++
		default:
			c.byCode[s.code]++
			t.Errorf("event %s: answered %d, which is neither 2xx nor a status the caller retries", s.page, s.code)
		}
	}
	deadline := time.Now().Add(within)
	var missing []string
	for {
		missing = missing[:0]
		purged := e.stub.Purged(proc.Zone, cfstub.KindFiles)
		for _, s := range owed {
			if excused != nil && excused(s.page) {
				continue
			}
			if why := e.unpurged(s, purged); why != "" {
				missing = append(missing, why)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("%d events answered 2xx were not purged within %s; first: %s", len(missing), within, strings.Join(missing[:min(5, len(missing))], "; "))
	}
	t.Logf("%s", c)
	return c
}

// unpurged says what of a 2xx event is not purged yet, or "".
func (e *faultEnv) unpurged(s sent, purged map[string]time.Time) string {
	if len(s.answer.Plan.URLs) != 11 {
		return fmt.Sprintf("%s: plan of %d URLs, want 11", s.page, len(s.answer.Plan.URLs))
	}
	for _, u := range s.answer.Plan.URLs {
		at, ok := purged[u]
		if !ok {
			return fmt.Sprintf("%s: %s never purged", s.page, u)
		}
		if at.Before(s.at) {
			return fmt.Sprintf("%s: %s last purged at %s, before the event (%s)", s.page, u, at.Format(time.StampMicro), s.at.Format(time.StampMicro))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, k := range s.answer.Plan.Keys {
		n, err := e.rdb.Exists(ctx, k).Result()
		if err != nil {
			return fmt.Sprintf("%s: key %s unreadable: %v", s.page, k, err)
		}
		if n != 0 {
			return fmt.Sprintf("%s: key %s still in Redis", s.page, k)
		}
	}
	if !slices.Contains(s.answer.Plan.Keys, e.prefix+"statuspage:"+s.page+":summary") {
		return fmt.Sprintf("%s: plan keys %v lack the page's key", s.page, s.answer.Plan.Keys)
	}
	return ""
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
