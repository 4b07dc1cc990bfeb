package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/varnish"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/varnishtest"
)

// The order of invalidation, end to end: a status page whose origin
// renders from Redis, a real Varnish in front of it, and Cloudflare (the
// stand-in) in front of that. A purge must reach each cache only after
// everything behind it is gone, or the cache refills from a stale copy.

// redisOrigin is a status page's origin that serves a page from its
// rendering cached in Redis (the page's summary key) when there is one,
// and otherwise renders the current version and caches it there.
type redisOrigin struct {
	srv     *httptest.Server
	rdb     redis.UniversalClient
	key     string // the summary key; the page renders from it
	version atomic.Int32
}

func newRedisOrigin(t *testing.T, rdb redis.UniversalClient, key string) *redisOrigin {
	o := &redisOrigin{rdb: rdb, key: key}
	o.version.Store(1)
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *redisOrigin) addr() string { return strings.TrimPrefix(o.srv.URL, "http://") }

func (o *redisOrigin) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := o.rdb.Get(ctx, o.key).Result()
	if err != nil {
		body = fmt.Sprintf("<p>%s version %d</p>", r.URL.Path, o.version.Load())
		o.rdb.Set(ctx, o.key, body, time.Hour)
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprint(w, body)
}

// watchedNode stands in front of a Varnish node's purge port: it can fail
// the purges (503) and, at each purge it forwards, notes whether the
// Redis side was already gone.
type watchedNode struct {
	srv     *httptest.Server
	failing atomic.Bool
	mu      sync.Mutex
	// purges are the purges forwarded; dirty those that found a key of
	// the plan, or a member of its key set, still in Redis.
	purges, dirty int
	firstOK       time.Time
}

func newWatchedNode(t *testing.T, v *varnishtest.Varnish, stillThere func(context.Context) bool) *watchedNode {
	target, err := url.Parse(v.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	n := &watchedNode{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.failing.Load() {
			http.Error(w, "node restarting", http.StatusServiceUnavailable)
			return
		}
		dirty := stillThere(r.Context())
		n.mu.Lock()
		n.purges++
		if dirty {
			n.dirty++
		}
		if n.firstOK.IsZero() {
			n.firstOK = time.Now()
		}
		n.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *watchedNode) counts() (purges, dirty int, first time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.purges, n.dirty, n.firstOK
}

// orderWorld is the three tiers and edgepurge purging them.
type orderWorld struct {
	h       *harness.H
	v       *varnishtest.Varnish
	node    *watchedNode
	origin  *redisOrigin
	rdb     redis.UniversalClient
	key     string
	set     string
	members []string
	// cdnDirty counts Cloudflare purge calls that arrived while the Redis
	// side or the Varnish copy was not yet gone.
	cdnDirty atomic.Int32
	cdnCalls atomic.Int32
}

// members of the page's key set: fragments the origin renders from.
const fragments = 200_000

func startOrderWorld(t *testing.T, setSize int) *orderWorld {
	t.Helper()
	prefix := redistest.Prefix(t)
	w := &orderWorld{rdb: redistest.Client(t)}
	w.key = prefix + "statuspage:" + spPage + ":summary"
	w.set = prefix + "statuspage:" + spPage + ":fragments"
	ctx := context.Background()
	for i := 0; i < setSize; i += 1000 {
		pipe := w.rdb.Pipeline()
		var batch []any
		for j := i; j < min(i+1000, setSize); j++ {
			m := fmt.Sprintf("%sfragment:%06d", prefix, j)
			w.members = append(w.members, m)
			batch = append(batch, m)
			pipe.Set(ctx, m, "x", time.Hour)
		}
		pipe.SAdd(ctx, w.set, batch...)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	w.origin = newRedisOrigin(t, w.rdb, w.key)
	w.v = varnishtest.Start(t, varnishtest.Options{Origin: w.origin.addr()})
	w.node = newWatchedNode(t, w.v, w.redisStillThere)

	stub := cfstub.New(cfstub.Options{Tokens: []string{harness.TestCFToken}})
	cf := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/purge_cache") {
			w.cdnCalls.Add(1)
			if w.redisStillThere(r.Context()) || w.varnishStale(r.Context()) {
				w.cdnDirty.Add(1)
			}
		}
		stub.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(func() { cf.Close(); stub.Close() })

	cfg := harness.BaseConfig(prefix, "redis://"+redistest.SharedAddr+"/0", cf.URL+"/client/v4/")
	cfg.Varnish = varnish.Config{Nodes: []string{w.node.srv.URL}}
	cfg.CDNOrder = []string{"varnish", "cloudflare"}
	// Generous: under -race on a busy machine the Redis step of 200,000
	// members takes seconds, and the watchers below query Redis at each
	// purge.
	cfg.Server.PurgeTimeout, cfg.Server.RequestTimeout = 30*time.Second, 40*time.Second
	cfg.Journal.Poll = 50 * time.Millisecond
	cfg.Journal.ClaimIdle = time.Second
	cfg.Pages[spPage] = config.PageRule{
		Hosts:   []string{"{page_id}.status.example.com"},
		Keys:    []string{w.key},
		KeySets: []string{w.set},
	}
	w.h = harness.StartWith(t, cfg, stub, prefix)
	w.h.WaitReady()
	return w
}

// redisStillThere reports whether Redis still holds anything old of the
// page: the summary key's old rendering (readers may have the origin
// render the new one after the purge), the key set, or a member of it
// (every 500th, and the last: the set is trimmed only after all its
// members are unlinked, so the set's presence covers the rest).
func (w *orderWorld) redisStillThere(ctx context.Context) bool {
	if body, err := w.rdb.Get(ctx, w.key).Result(); err == nil && strings.Contains(body, "version 1") {
		return true
	}
	keys := []string{w.set}
	for i := 0; i < len(w.members); i += 500 {
		keys = append(keys, w.members[i])
	}
	if len(w.members) > 0 {
		keys = append(keys, w.members[len(w.members)-1])
	}
	n, err := w.rdb.Exists(ctx, keys...).Result()
	return err != nil || n > 0
}

// varnishStale reports whether Varnish still serves version 1 of the page.
func (w *orderWorld) varnishStale(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.v.Addr+"/", nil)
	req.Host = spHost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return true
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), "version 1")
}

// page reads the page through Varnish.
func (w *orderWorld) page(t *testing.T) string {
	body, _ := fetch(t, w.v.Addr, read{spHost, "/", ""})
	return body
}

// readers hammer the page through Varnish until stop is called, the way
// the public does during an incident: any refill of a stale copy happens.
func (w *orderWorld) readers(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.v.Addr+"/", nil)
				req.Host = spHost
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// Redis (a summary key and a key set of 200,000 members) is emptied first,
// then Varnish is purged, then Cloudflare; readers hitting the page all
// along never get a stale copy cached again.
func TestInvalidationRunsInTheOrderACacheRefills(t *testing.T) {
	w := startOrderWorld(t, fragments)
	if body := w.page(t); !strings.Contains(body, "version 1") || w.page(t) != body {
		t.Fatalf("warm: %q", body)
	}
	w.origin.version.Store(2)
	stop := w.readers(t)
	code, raw := w.h.StatuspageIncident()
	stop()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	for _, r := range a.Results {
		if r.Status != chain.BackendOK {
			t.Errorf("result %+v", r)
		}
	}
	purges, dirty, _ := w.node.counts()
	if purges == 0 || dirty != 0 {
		t.Errorf("%d Varnish purges, %d of them before Redis was empty", purges, dirty)
	}
	if w.cdnCalls.Load() == 0 || w.cdnDirty.Load() != 0 {
		t.Errorf("%d Cloudflare calls, %d of them before Redis and Varnish were fresh", w.cdnCalls.Load(), w.cdnDirty.Load())
	}
	if body := w.page(t); !strings.Contains(body, "version 2") {
		t.Errorf("after the purge, Varnish serves %q: a stale refill", body)
	}
}

// The inner CDN (Varnish) fails: the outer one (Cloudflare) is not purged
// (it would refill from Varnish's stale copy), the rest of the chain is
// journaled (202), and the re-driver purges Varnish, then Cloudflare, once
// Varnish is back.
func TestReDriveKeepsTheOrder(t *testing.T) {
	w := startOrderWorld(t, 1000)
	if body := w.page(t); !strings.Contains(body, "version 1") {
		t.Fatalf("warm: %q", body)
	}
	w.origin.version.Store(2)
	w.node.failing.Store(true)
	stop := w.readers(t)
	defer stop()
	code, raw := w.h.StatuspageIncident()
	if code != http.StatusAccepted {
		t.Fatalf("hook with Varnish failing: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	status := map[string]string{}
	for _, r := range a.Results {
		status[r.Backend] = r.Status
	}
	if a.Status != chain.StatusJournaled || status["redis"] != "ok" || status["varnish"] != "failed" || status["cloudflare"] != "skipped" {
		t.Fatalf("answer %s", raw)
	}
	if n := w.cdnCalls.Load(); n != 0 {
		t.Fatalf("Cloudflare was purged %d times while Varnish, in front of the origin, still held the old page", n)
	}
	time.Sleep(300 * time.Millisecond) // a few re-drives fail meanwhile
	if n := w.cdnCalls.Load(); n != 0 {
		t.Fatalf("a failing re-drive purged Cloudflare %d times", n)
	}

	w.node.failing.Store(false)
	deadline := time.Now().Add(harness.DefaultTestWait)
	for w.cdnCalls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if w.cdnCalls.Load() == 0 {
		t.Fatal("the re-driver never purged Cloudflare")
	}
	if purges, dirty, _ := w.node.counts(); purges == 0 || dirty != 0 {
		t.Errorf("%d Varnish purges, %d before Redis was empty", purges, dirty)
	}
	if w.cdnDirty.Load() != 0 {
		t.Errorf("%d Cloudflare calls before Varnish was fresh", w.cdnDirty.Load())
	}
	if body := w.page(t); !strings.Contains(body, "version 2") {
		t.Errorf("after the re-drive, Varnish serves %q", body)
	}
}
