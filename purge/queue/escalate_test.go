package queue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// escalated counts the observer's escalations.
type escalated struct {
	nopObserver
	requests, urls atomic.Int64
}

func (e *escalated) Escalated(urls int) {
	e.requests.Add(1)
	e.urls.Add(int64(urls))
}

type nopObserver struct{}

func (nopObserver) Coalesced(string, int) {}
func (nopObserver) Throttled(string)      {}
func (nopObserver) CallSent(string, int)  {}
func (nopObserver) Escalated(int)         {}

// storm is Pro's two buckets, scaled down 10×: URLs 150/s, tag/host calls
// 5/s with a burst of 25, 100 items a call.
var storm = cfstub.Options{URLRate: 150, URLBurst: 150, FlexRate: 5, FlexBurst: 25, Latency: 10 * time.Millisecond}

func stormLimits() ratelimit.Limits {
	return ratelimit.Limits{
		URLs:  ratelimit.Rate{Count: 150, Period: time.Second, Burst: 150},
		Calls: ratelimit.Rate{Count: 5, Period: time.Second, Burst: 25},
	}.Scaled(ratelimit.DefaultHeadroom)
}

// pageRequest is page i's 22 URLs, covered by its tag page:pi when cover.
func pageRequest(i int, cover bool) purge.Request {
	urls := make([]string, 22)
	for j := range urls {
		urls[j] = fmt.Sprintf("https://p%d.status.example.com/path/%02d", i, j)
	}
	r := purge.Request{Zone: zone, URLs: urls}
	if cover {
		r.Cover = &purge.Cover{Tags: []string{fmt.Sprintf("page:p%d", i)}}
	}
	return r
}

// stormOf sends n pages at once through p and returns how many escalated
// and how many failed.
func stormOf(t *testing.T, p *Purger, n int, cover func(i int) bool) (esc, failed int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := p.Purge(ctx, pageRequest(i, cover(i)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil || res.Items != 22 {
				failed++
				t.Logf("page %d: %+v %v", i, res, err)
			}
			if res.Escalation != "" {
				esc++
			}
		})
	}
	wg.Wait()
	return esc, failed
}

// 300 pages × 22 URLs = 6,600 URLs: 44 s of the URL budget alone. With a
// cover, the pages past the first second's worth escalate and go out 100
// tags to a call from the idle tag budget; neither bucket answers 429.
func TestAStormEscalatesToCoversAndSpendsBothBudgets(t *testing.T) {
	obs := &escalated{}
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), stormLimits(), quiet)
	limits := stormLimits()
	p, stub := setup(t, storm, Config{
		Limiter: lim, Observer: obs, MaxItemsPerCall: 100,
		Escalation: &Escalation{After: time.Second, URLRate: limits.URLs.PerSecond(), CoverCallRate: limits.Calls.PerSecond()},
	})
	start := time.Now()
	esc, failed := stormOf(t, p, 300, func(int) bool { return true })
	took := time.Since(start)
	if failed != 0 {
		t.Fatalf("%d pages failed", failed)
	}
	if esc == 0 || int64(esc) != obs.requests.Load() || obs.urls.Load() != int64(22*esc) {
		t.Errorf("%d escalated (observer: %d requests, %d URLs)", esc, obs.requests.Load(), obs.urls.Load())
	}
	checkNoThrottling(t, stub)
	tagCalls, urlCalls := 0, 0
	for _, c := range stub.PurgeCalls() {
		switch c.Kind {
		case "tags":
			tagCalls++
			if len(c.Items) > 100 {
				t.Errorf("a tag call of %d items", len(c.Items))
			}
		case "files":
			urlCalls++
		}
	}
	if tagCalls == 0 || urlCalls == 0 {
		t.Errorf("%d URL calls, %d tag calls: want both budgets used", urlCalls, tagCalls)
	}
	tags := stub.Purged(zone, "tags")
	if len(tags) != esc {
		t.Errorf("%d tags purged for %d escalated pages", len(tags), esc)
	}
	t.Logf("300 pages in %s: %d by cover in %d tag calls, %d by URL in %d calls", took.Round(time.Millisecond), esc, tagCalls, 300-esc, urlCalls)
}

// Pages without a cover stay on their URLs; the ones with one may escalate;
// every page is purged one way or the other.
func TestMixedPagesWithAndWithoutCovers(t *testing.T) {
	limits := stormLimits()
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), limits, quiet)
	p, stub := setup(t, storm, Config{
		Limiter: lim, MaxItemsPerCall: 100,
		Escalation: &Escalation{After: time.Second, URLRate: limits.URLs.PerSecond(), CoverCallRate: limits.Calls.PerSecond()},
	})
	_, failed := stormOf(t, p, 120, func(i int) bool { return i%2 == 0 })
	if failed != 0 {
		t.Fatalf("%d pages failed", failed)
	}
	urls := stub.URLsPurged(zone)
	tags := stub.Purged(zone, "tags")
	for i := range 120 {
		tag := fmt.Sprintf("page:p%d", i)
		_, byTag := tags[tag]
		byURL := slicesContain(urls, fmt.Sprintf("https://p%d.status.example.com/path/00", i))
		if i%2 == 1 && (byTag || !byURL) {
			t.Errorf("page %d has no cover: by tag %v, by URL %v", i, byTag, byURL)
		}
		if !byTag && !byURL {
			t.Errorf("page %d purged neither way", i)
		}
	}
	checkNoThrottling(t, stub)
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// No backlog, no escalation: a lone page goes out by its URLs.
func TestNoEscalationWithoutABacklog(t *testing.T) {
	p, stub := setup(t, cfstub.Options{}, Config{
		MaxItemsPerCall: 100, Escalation: &Escalation{After: time.Second, URLRate: 1350, CoverCallRate: 4.5},
	})
	res, err := p.Purge(context.Background(), pageRequest(1, true))
	if err != nil || res.Escalation != "" || res.Items != 22 {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(stub.Purged(zone, "tags")); n != 0 {
		t.Errorf("%d tags purged", n)
	}
}

// A 429 on the tag bucket pauses it; escalated pages still go out after
// the Retry-After, within their deadline.
func TestA429OnTheTagBucketIsWaitedOut(t *testing.T) {
	opts := storm
	opts.FlexBurst = 1 // the stand-in's tag bucket is tighter than edgepurge thinks
	opts.FlexRate = 2
	limits := stormLimits()
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), limits, quiet)
	p, stub := setup(t, opts, Config{
		Limiter: lim, MaxItemsPerCall: 100,
		Escalation: &Escalation{After: 200 * time.Millisecond, URLRate: limits.URLs.PerSecond(), CoverCallRate: limits.Calls.PerSecond()},
	})
	esc, failed := stormOf(t, p, 150, func(int) bool { return true })
	if failed != 0 || esc == 0 {
		t.Fatalf("%d failed, %d escalated", failed, esc)
	}
	t.Logf("%d 429s from the tag bucket, all waited out", stub.Throttled())
}

// Two instances share both buckets through Redis: together they never
// draw a 429 from either.
func TestTwoInstancesShareBothBuckets(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	limits := stormLimits()
	stub := cfstub.New(func() cfstub.Options { o := storm; o.Tokens = []string{token}; return o }())
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	var instances []*Purger
	for range 2 {
		cf, _ := cloudflare.New(cloudflare.Config{APIToken: token, BaseURL: base})
		instances = append(instances, New(Config{
			Next: cf, MaxInflight: 4, MaxItemsPerCall: 100, Limiter: ratelimit.New(rdb, prefix, limits, quiet),
			Escalation: &Escalation{After: time.Second, URLRate: limits.URLs.PerSecond(), CoverCallRate: limits.Calls.PerSecond()},
		}))
	}
	var wg sync.WaitGroup
	var failed, esc atomic.Int64
	for i := range 240 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := instances[i%2].Purge(ctx, pageRequest(i, true))
			if err != nil {
				failed.Add(1)
			}
			if res.Escalation != "" {
				esc.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d failed", failed.Load())
	}
	checkNoThrottling(t, stub)
	if esc.Load() == 0 {
		t.Error("no page escalated: the test proves nothing")
	}
}

// While covers keep coming, a short cover call waits for more (at most
// After); a full one, or any once no cover has come for checkEvery, goes
// at once.
func TestCoverCallsWaitToBeFullWhileCoversCome(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	p := New(Config{MaxItemsPerCall: 100, Escalation: &Escalation{After: time.Second, URLRate: 1350, CoverCallRate: 4}})
	p.now = func() time.Time { return now }
	escalated := func() { p.escalatedAt.Store(now.UnixNano()) }
	f := &coverFill{p: p, full: 100}

	if f.hold(3) {
		t.Error("a short call held with no cover coming")
	}
	escalated()
	if f.hold(100) {
		t.Error("a full call held")
	}
	if !f.hold(3) {
		t.Error("a short call sent while covers come")
	}
	for range 9 { // covers keep coming for 900 ms
		now = now.Add(100 * time.Millisecond)
		escalated()
		if !f.hold(40) {
			t.Fatalf("a short call sent before After (%s)", now.Sub(time.Unix(1_000_000, 0)))
		}
	}
	now = now.Add(100 * time.Millisecond)
	escalated()
	if f.hold(40) {
		t.Error("a short call held past After")
	}
	if !f.hold(7) { // the next short call waits anew
		t.Error("the next short call was not held")
	}
	now = now.Add(checkEvery)
	if f.hold(7) {
		t.Error("a short call held when no cover came for checkEvery")
	}
}

// A storm's covers go out 100 to a call: every tag call is full but the
// last, sent once the rule stops escalating — a call costs one token of
// the scarce call bucket whatever it carries, so short ones would spend
// its burst on a few pages.
func TestAStormsCoversGoOutInFullCalls(t *testing.T) {
	limits := stormLimits()
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), limits, quiet)
	p, stub := setup(t, storm, Config{
		Limiter: lim, MaxItemsPerCall: 100,
		Escalation: &Escalation{After: time.Second, URLRate: limits.URLs.PerSecond(), CoverCallRate: limits.Calls.PerSecond()},
	})
	esc, failed := stormOf(t, p, 500, func(int) bool { return true })
	if failed != 0 {
		t.Fatalf("%d pages failed", failed)
	}
	var sizes []int
	for _, c := range stub.PurgeCalls() {
		if c.Kind == "tags" && c.Status == 200 {
			sizes = append(sizes, len(c.Items))
		}
	}
	if esc < 300 || len(stub.Purged(zone, "tags")) != esc {
		t.Fatalf("%d pages escalated, %d tags purged: want most of the 500 by cover", esc, len(stub.Purged(zone, "tags")))
	}
	short := 0
	for i, n := range sizes {
		if n < 100 && i < len(sizes)-1 {
			short++
		}
	}
	// One short call may leave early: a cover that waited After.
	if short > 1 {
		t.Errorf("tag calls of %v items: %d short before the last", sizes, short)
	}
	t.Logf("%d pages by cover in tag calls of %v items", esc, sizes)
	checkNoThrottling(t, stub)
}
