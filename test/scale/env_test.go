package scale

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/cfstub"
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
	// "rate:" before the limiter's prefix, the account and the bucket.
	urlBucketKey = "rate:edgepurge:ratelimit:default:urls"
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
type sent struct {
	to      string // the instance's name
	page    string
	at      time.Time
	code    int
	err     error
	refused bool // the connection was never accepted
	raw     string
	answer  fanout.Answer
}

// load is the shared load generator: events spread round-robin over the
// instances in targets, which the test may change (an instance killed).
type load struct {
	env     *scaleEnv
	targets atomic.Pointer[[]*instance]
	next    atomic.Int64
	done    atomic.Int64
	events  []sent
	wg      sync.WaitGroup
	client  *http.Client
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
func (e *scaleEnv) startLoad(targets []*instance, o loadOptions) *load {
	l := &load{env: e, events: make([]sent, o.n),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	l.targets.Store(&targets)
	for range o.workers {
		l.wg.Go(func() {
			for {
				i := int(l.next.Add(1)) - 1
				if i >= o.n {
					return
				}
				l.send(i, o)
				l.done.Add(1)
				time.Sleep(o.pace)
			}
		})
	}
	return l
}

func (l *load) send(i int, o loadOptions) {
	e := l.env
	page := fmt.Sprintf("%s%d", o.prefix, i)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = e.topo.rdb.Set(ctx, "statuspage:"+page+":summary", "cached", 0).Err()
	cancel()
	targets := *l.targets.Load()
	in := targets[i%len(targets)]
	urls := make([]string, o.extraURLs)
	for j := range urls {
		urls[j] = fmt.Sprintf("https://%s.status.example.com/extra/%d", page, j)
	}
	body, _ := json.Marshal(map[string]any{"page_id": page, "incident_id": fmt.Sprintf("inc%d", i), "urls": urls})
	l.events[i] = e.post(l.client, in, "/v1/purge", body, map[string]string{"Authorization": "Bearer " + proc.APIToken})
	l.events[i].page = page
}

// post sends one request and records its answer.
func (e *scaleEnv) post(client *http.Client, in *instance, path string, body []byte, headers map[string]string) sent {
	s := sent{to: in.name, at: time.Now()}
	req, _ := http.NewRequest(http.MethodPost, in.Base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		s.err, s.refused = err, errors.As(err, &op) && op.Op == "dial"
		return s
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.code, s.raw = resp.StatusCode, string(raw)
	if err != nil {
		s.err = fmt.Errorf("read answer: %w", err)
	} else if jerr := json.Unmarshal(raw, &s.answer); jerr != nil && s.code < 300 {
		s.err = fmt.Errorf("2xx answer is not JSON: %w: %s", jerr, raw)
	}
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
	s.page = page
	return s
}

func (l *load) waitSent(n int) {
	for l.done.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *load) wait() []sent {
	l.wg.Wait()
	return l.events
}

// counts sum up a load's answers.
type counts struct {
	events, ok200, accepted202, refused, cut int
	byCode                                   map[int]int
}

func (c counts) String() string {
	return fmt.Sprintf("%d events: %d answered 2xx (%d × 200, %d × 202), others by status %v, %d refused before reaching an instance, %d cut",
		c.events, c.ok200+c.accepted202, c.ok200, c.accepted202, c.byCode, c.refused, c.cut)
}

// invariant checks the promise over events: every 2xx has all its URLs
// purged at the stand-in after it arrived and its keys gone, within
// `within`; every other answer is a status the caller retries. allowCut
// permits requests that reached a SIGKILLed instance and got no answer.
func (e *scaleEnv) invariant(events []sent, within time.Duration, allowCut bool) counts {
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
				t.Errorf("event %s to %s: no answer: %v", s.page, s.to, s.err)
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
		case s.code == http.StatusTooManyRequests, s.code == http.StatusBadGateway, s.code == http.StatusServiceUnavailable:
			c.byCode[s.code]++
		default:
			c.byCode[s.code]++
			t.Errorf("event %s to %s: answered %d, neither 2xx nor a status the caller retries: %s", s.page, s.to, s.code, s.raw)
		}
	}
	deadline := time.Now().Add(within)
	var missing []string
	for {
		missing = missing[:0]
		purged := e.stub.Purged(proc.Zone, cfstub.KindFiles)
		for _, s := range owed {
			if why := e.unpurged(s, purged); why != "" {
				missing = append(missing, why)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("%d events answered 2xx were not purged within %s; first: %s", len(missing), within, strings.Join(missing[:min(5, len(missing))], "; "))
	}
	return c
}

// unpurged says what of a 2xx event is not purged yet, or "".
func (e *scaleEnv) unpurged(s sent, purged map[string]time.Time) string {
	if len(s.answer.Plan.URLs) < 11 {
		return fmt.Sprintf("%s: plan of %d URLs, want at least 11", s.page, len(s.answer.Plan.URLs))
	}
	for _, u := range s.answer.Plan.URLs {
		at, ok := purged[u]
		if !ok {
			return fmt.Sprintf("%s: %s never purged", s.page, u)
		}
		if at.Before(s.at) {
			return fmt.Sprintf("%s: %s last purged before the event", s.page, u)
		}
	}
	want := "statuspage:" + s.page + ":summary"
	found := false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, k := range s.answer.Plan.Keys {
		found = found || k == want
		n, err := e.topo.rdb.Exists(ctx, k).Result()
		if err != nil {
			return fmt.Sprintf("%s: key %s unreadable: %v", s.page, k, err)
		}
		if n != 0 {
			return fmt.Sprintf("%s: key %s still in Redis", s.page, k)
		}
	}
	if !found {
		return fmt.Sprintf("%s: plan keys %v lack %s", s.page, s.answer.Plan.Keys, want)
	}
	return ""
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
