package edgecheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
)

func TestJudge(t *testing.T) {
	lm := func(d time.Duration) string {
		return time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).Add(d).Format(http.TimeFormat)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		before  validators
		since   time.Duration
		want    string
	}{
		{"miss, whatever the age", map[string]string{"X-Cache": "MISS", "Age": "500"}, validators{}, 0, chain.CheckVerified},
		{"cloudflare expired", map[string]string{"CF-Cache-Status": "EXPIRED", "Age": "500"}, validators{}, 0, chain.CheckVerified},
		{"cloudflare dynamic", map[string]string{"CF-Cache-Status": "DYNAMIC"}, validators{}, 0, chain.CheckVerified},
		{"a tier hit", map[string]string{"X-Cache": "MISS, HIT", "Age": "50"}, validators{}, time.Second, chain.CheckStale},
		{"hit without age", map[string]string{"X-Cache": "HIT"}, validators{}, 0, chain.CheckVerified},
		{"age 0 at once", map[string]string{"X-Cache": "HIT", "Age": "0"}, validators{}, 10 * time.Millisecond, chain.CheckVerified},
		{"cached after the purge", map[string]string{"Age": "3"}, validators{}, 3500 * time.Millisecond, chain.CheckVerified},
		{"cached before the purge", map[string]string{"Age": "3"}, validators{}, 2900 * time.Millisecond, chain.CheckStale},
		{"new etag", map[string]string{"Age": "100", "ETag": `"b"`}, validators{etag: `"a"`}, 0, chain.CheckVerified},
		{"same etag", map[string]string{"Age": "100", "ETag": `"a"`}, validators{etag: `"a"`}, 0, chain.CheckStale},
		{"newer last-modified", map[string]string{"Age": "100", "Last-Modified": lm(time.Minute)}, validators{lastModified: lm(0)}, 0, chain.CheckVerified},
		{"same last-modified", map[string]string{"Age": "100", "Last-Modified": lm(0)}, validators{lastModified: lm(0)}, 0, chain.CheckStale},
	} {
		h := http.Header{}
		for k, v := range tc.headers {
			h.Set(k, v)
		}
		if got := judge(h, tc.before, tc.since); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// countingPurger succeeds (or fails) and keeps the plans it was given.
type countingPurger struct {
	mu     sync.Mutex
	plans  []plan.Plan
	status string
	onRun  func()
}

func (p *countingPurger) RunOn(ctx context.Context, _ []string, id string, pl *plan.Plan, a *chain.Answer) {
	p.Run(ctx, id, pl, false, a)
}

func (p *countingPurger) Run(ctx context.Context, id string, pl *plan.Plan, dryRun bool, a *chain.Answer) {
	*a = p.run(ctx, id, *pl, dryRun)
}

func (p *countingPurger) run(_ context.Context, id string, pl plan.Plan, dryRun bool) chain.Answer {
	p.mu.Lock()
	p.plans = append(p.plans, pl)
	p.mu.Unlock()
	if p.onRun != nil {
		p.onRun()
	}
	status := p.status
	if status == "" {
		status = chain.StatusPurged
	}
	if dryRun {
		status = chain.StatusDryRun
	}
	return chain.Answer{ID: id, Status: status, Plan: pl, Results: []chain.BackendResult{
		{Backend: "varnish", Status: chain.BackendOK, Items: len(pl.URLs), Calls: len(pl.URLs)},
		{Backend: "redis", Status: chain.BackendOK},
	}}
}

type countingObserver struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *countingObserver) ObserveEdgeCheck(result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts[result]++
}

// edge answers as a cache would: stale (Age: 100, HIT) for the paths in
// stale while purges < fixedAfter, fresh otherwise. It records the Host and
// path of each GET.
type edge struct {
	srv        *httptest.Server
	purges     *atomic.Int32
	fixedAfter int32
	stale      []string
	mu         sync.Mutex
	gets       []string
}

func newEdge(t *testing.T, purges *atomic.Int32, fixedAfter int32, stale ...string) *edge {
	e := &edge{purges: purges, fixedAfter: fixedAfter, stale: stale}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.gets = append(e.gets, r.Host+r.URL.RequestURI())
		e.mu.Unlock()
		if slices.Contains(e.stale, r.URL.Path) && e.purges.Load() < e.fixedAfter {
			w.Header().Set("Age", "100")
			w.Header().Set("X-Cache", "HIT")
			return
		}
		w.Header().Set("X-Cache", "MISS")
		w.Header().Set("Age", "0")
	}))
	t.Cleanup(e.srv.Close)
	return e
}

var urls = []string{"https://a.test/", "https://a.test/history?x=1", "https://b.test/"}

func TestEveryURLVerified(t *testing.T) {
	var purges atomic.Int32
	e := newEdge(t, &purges, 0)
	p := &countingPurger{onRun: func() { purges.Add(1) }}
	obs := &countingObserver{counts: map[string]int{}}
	a := run(New(Config{Purger: p, Observer: obs}), context.Background(), "id", plan.Plan{URLs: urls, EdgeCheck: e.srv.URL}, false)
	if a.Status != chain.StatusPurged || len(a.EdgeChecks) != 3 || len(p.plans) != 1 || a.Repurge != nil {
		t.Fatalf("answer %+v", a)
	}
	for i, c := range a.EdgeChecks {
		if c.URL != urls[i] || c.Result != chain.CheckVerified || c.Repurged || c.CacheStatus != "MISS" || c.Age != "0" {
			t.Errorf("check %+v", c)
		}
	}
	if obs.counts[chain.CheckVerified] != 3 {
		t.Errorf("observed %v", obs.counts)
	}
	// The URLs were asked for under their own hosts: a snapshot, then a check.
	e.mu.Lock()
	defer e.mu.Unlock()
	slices.Sort(e.gets)
	want := []string{"a.test/", "a.test/", "a.test/history?x=1", "a.test/history?x=1", "b.test/", "b.test/"}
	if !slices.Equal(e.gets, want) {
		t.Errorf("edge saw %q", e.gets)
	}
}

func TestStaleURLsAreRepurgedOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fixedAfter int32
		wantStatus string
		wantResult string
	}{
		{"fixed by the second purge", 2, chain.StatusPurged, chain.CheckVerified},
		{"still stale", 1 << 30, chain.StatusStale, chain.CheckStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var purges atomic.Int32
			e := newEdge(t, &purges, tc.fixedAfter, "/history")
			p := &countingPurger{onRun: func() { purges.Add(1) }}
			obs := &countingObserver{counts: map[string]int{}}
			a := run(New(Config{Purger: p, Observer: obs}), context.Background(), "id",
				plan.Plan{URLs: urls, Keys: []string{"k"}, CDNOrder: []string{"varnish"}, EdgeCheck: e.srv.URL}, false)
			if a.Status != tc.wantStatus || len(p.plans) != 2 {
				t.Fatalf("status %q after %d purges", a.Status, len(p.plans))
			}
			again := p.plans[1]
			if !slices.Equal(again.URLs, []string{"https://a.test/history?x=1"}) || len(again.Keys) != 0 || !slices.Equal(again.CDNOrder, []string{"varnish"}) {
				t.Errorf("second purge plan %+v", again)
			}
			if c := a.EdgeChecks[1]; c.Result != tc.wantResult || !c.Repurged {
				t.Errorf("the stale URL: %+v", c)
			}
			if c := a.EdgeChecks[0]; c.Result != chain.CheckVerified || c.Repurged {
				t.Errorf("a fresh URL: %+v", c)
			}
			if len(a.Repurge) != 1 || a.Repurge[0].Backend != "varnish" || a.Repurge[0].Items != 1 {
				t.Errorf("repurge %+v", a.Repurge)
			}
			if obs.counts[chain.CheckVerified] != 2+boolInt(tc.wantResult == chain.CheckVerified) ||
				obs.counts[chain.CheckStale] != boolInt(tc.wantResult == chain.CheckStale) {
				t.Errorf("observed %v", obs.counts)
			}
		})
	}
}

func TestNoCheckWithoutEdgeDryRunOrSuccess(t *testing.T) {
	e := newEdge(t, &atomic.Int32{}, 0)
	for _, tc := range []struct {
		name   string
		p      plan.Plan
		dryRun bool
		status string
	}{
		{"no edge", plan.Plan{URLs: urls}, false, ""},
		{"dry run", plan.Plan{URLs: urls, EdgeCheck: e.srv.URL}, true, ""},
		{"purge failed", plan.Plan{URLs: urls, EdgeCheck: e.srv.URL}, false, chain.StatusPartial},
	} {
		p := &countingPurger{status: tc.status}
		a := run(New(Config{Purger: p}), context.Background(), "id", tc.p, tc.dryRun)
		if a.EdgeChecks != nil || len(p.plans) != 1 {
			t.Errorf("%s: verification %+v after %d purges", tc.name, a.EdgeChecks, len(p.plans))
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Only the failed purge's snapshot reached the edge.
	if len(e.gets) != 3 {
		t.Errorf("edge saw %q", e.gets)
	}
}

func TestAnEdgeDownIsFailedNotStale(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	p := &countingPurger{}
	a := run(New(Config{Purger: p}), context.Background(), "id", plan.Plan{URLs: urls, EdgeCheck: dead}, false)
	if a.Status != chain.StatusPurged || len(p.plans) != 1 {
		t.Fatalf("status %q after %d purges", a.Status, len(p.plans))
	}
	for _, c := range a.EdgeChecks {
		if c.Result != chain.CheckFailed || c.Error == "" {
			t.Errorf("check %+v", c)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// deadlinePurger notes how much of its context's deadline was left when
// the purge started.
type deadlinePurger struct {
	countingPurger
	left time.Duration
}

func (p *deadlinePurger) Run(ctx context.Context, id string, pl *plan.Plan, dryRun bool, a *chain.Answer) {
	if d, ok := ctx.Deadline(); ok {
		p.left = time.Until(d)
	}
	p.countingPurger.Run(ctx, id, pl, dryRun, a)
}

// run is v.Run answering by value, as the tests read it.
func run(v *Checker, ctx context.Context, id string, p plan.Plan, dryRun bool) chain.Answer {
	var a chain.Answer
	v.Run(ctx, id, &p, dryRun, &a)
	return a
}

// A hanging edge must not eat the purge's time: the snapshot before the
// purge takes at most a tenth of what is left of the deadline.
func TestASlowEdgeLeavesThePurgeItsTime(t *testing.T) {
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	defer edge.Close()
	p := &deadlinePurger{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a := run(New(Config{Purger: p}), ctx, "id", plan.Plan{URLs: []string{"https://a.test/"}, EdgeCheck: edge.URL}, false)
	if p.left < 1500*time.Millisecond {
		t.Errorf("the purge started with %s of a 2 s deadline left", p.left)
	}
	if a.Status != chain.StatusPurged || len(a.EdgeChecks) != 1 || a.EdgeChecks[0].Result != chain.CheckFailed {
		t.Errorf("answer %+v", a)
	}
}
