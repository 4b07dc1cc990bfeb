package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

const (
	token = "coalesce-test-token"
	zone  = "zone-coalesce"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// setup runs the real Cloudflare purger (real SDK) against a stand-in,
// wrapped by a coalescing Purger.
func setup(t *testing.T, stub cfstub.Options, cfg Config) (*Purger, *cfstub.Server) {
	t.Helper()
	stub.Tokens = []string{token}
	s := cfstub.New(stub)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	cf, err := cloudflare.New(cloudflare.Config{APIToken: token, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Next = cf
	if cfg.MaxInflight == 0 {
		cfg.MaxInflight = 4
	}
	return New(cfg), s
}

func pageURLs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://p0.status.example.com/path/%03d", i)
	}
	return out
}

func TestSameURLDuringInflightCallIsPurgedTwice(t *testing.T) {
	p, stub := setup(t, cfstub.Options{Latency: 300 * time.Millisecond}, Config{MaxInflight: 1})
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: []string{"https://a.test/"}}); err != nil {
			t.Error(err)
		}
	})
	for stub.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := time.Now()
	if _, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: []string{"https://a.test/"}}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	calls := stub.PurgeCalls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if !calls[1].At.After(second) {
		t.Errorf("the second purge of the URL started at %v, before the second event arrived at %v", calls[1].At, second)
	}
}

func TestThousandEventsFewCallsWithinLimit(t *testing.T) {
	p, stub := setup(t, cfstub.Options{Latency: 20 * time.Millisecond, MaxItemsPerCall: 30}, Config{MaxURLsPerCall: 30})
	ctx := context.Background()
	urls := pageURLs(22)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := 0
	for i := range 1000 {
		wg.Go(func() {
			req := purge.Request{Zone: zone, URLs: append(slices.Clone(urls), fmt.Sprintf("https://p0.status.example.com/incidents/%d", i%10))}
			res, err := p.Purge(ctx, req)
			if err != nil || res.Items != 23 {
				mu.Lock()
				failures++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failures != 0 {
		t.Errorf("%d of 1000 events failed", failures)
	}
	calls := stub.PurgeCalls()
	for _, c := range calls {
		if len(c.Items) > 30 || c.Status != 200 {
			t.Fatalf("call with %d items, status %d", len(c.Items), c.Status)
		}
	}
	if len(calls) > 100 {
		t.Errorf("%d CDN calls for 1000 events", len(calls))
	}
	t.Logf("1000 events → %d CDN calls", len(calls))
}

// A burst far over the stand-in's bucket: edgepurge's own budget keeps it
// under, so the CDN never answers 429, and every event still succeeds.
func TestBurstNeverExceedsTheBucket(t *testing.T) {
	// The stand-in allows 200 URLs/s; edgepurge keeps the usual 10 % headroom.
	limits := ratelimit.Limits{URLs: ratelimit.Rate{Count: 200, Period: time.Second, Burst: 200}, Calls: ratelimit.Rate{Count: 5, Period: time.Second, Burst: 5}}.Scaled(ratelimit.DefaultHeadroom)
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), limits, quiet)
	p, stub := setup(t, cfstub.Options{URLRate: 200, URLBurst: 200}, Config{Limiter: lim})
	var wg sync.WaitGroup
	for i := range 60 { // 60 events × 10 distinct URLs = 600 URLs = 3 s of budget
		wg.Go(func() {
			urls := make([]string, 10)
			for j := range urls {
				urls[j] = fmt.Sprintf("https://p%d.status.example.com/%d", i, j)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: urls}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkNoThrottling(t, stub)
	if n := len(stub.URLsPurged(zone)); n != 600 {
		t.Errorf("purged %d URLs, want 600", n)
	}
}

func TestSharedBudgetAcrossTwoInstances(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	limits := ratelimit.Limits{URLs: ratelimit.Rate{Count: 150, Period: time.Second, Burst: 150}, Calls: ratelimit.Rate{Count: 5, Period: time.Second, Burst: 5}}.Scaled(ratelimit.DefaultHeadroom)
	stub := cfstub.New(cfstub.Options{Tokens: []string{token}, URLRate: 150, URLBurst: 150})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	var instances []*Purger
	for range 2 {
		cf, _ := cloudflare.New(cloudflare.Config{APIToken: token, BaseURL: base})
		instances = append(instances, New(Config{Next: cf, MaxInflight: 4, Limiter: ratelimit.New(rdb, prefix, limits, quiet)}))
	}
	var wg sync.WaitGroup
	for i := range 40 { // 40 × 10 = 400 URLs through two instances
		wg.Go(func() {
			urls := make([]string, 10)
			for j := range urls {
				urls[j] = fmt.Sprintf("https://p%d.status.example.com/%d", i, j)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := instances[i%2].Purge(ctx, purge.Request{Zone: zone, URLs: urls}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkNoThrottling(t, stub)
}

// jitter429s is how many 429s a budgeted storm may draw from the
// stand-in on a busy machine: the budget is granted when a call is taken
// and the stand-in's bucket counts it when it arrives, so a call held up
// between the two by the scheduler can land right behind the next one.
// A budget that is not shared or not kept draws dozens.
const jitter429s = 2

// checkNoThrottling fails the test when the stand-in answered more 429s
// than scheduling jitter explains.
func checkNoThrottling(t *testing.T, stub *cfstub.Server) {
	t.Helper()
	if n := stub.Throttled(); n > jitter429s {
		t.Errorf("the stand-in answered 429 %d times (at most %d from scheduling jitter)", n, jitter429s)
	} else if n > 0 {
		t.Logf("%d 429s, within scheduling jitter", n)
	}
}

func TestRetryAfterPausesAndEventsStillSucceed(t *testing.T) {
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), mustPreset(t, "pro"), quiet)
	p, stub := setup(t, cfstub.Options{}, Config{Limiter: lim})
	stub.SetFailure(cfstub.Failure{Status: 429, Codes: []int{971}, Message: "Please wait and consider throttling your request speed", Count: 1, RetryAfter: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: pageURLs(5)})
	if err != nil || res.Items != 5 {
		t.Fatalf("after a 429: %+v %v", res, err)
	}
	calls := stub.PurgeCalls()
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Fatalf("calls %+v", calls)
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried %v after the 429, want ≥ Retry-After 1s", gap)
	}
}

func TestDeadlineBeforeBudgetIsAnUnsentError(t *testing.T) {
	limits := ratelimit.Limits{URLs: ratelimit.Rate{Count: 1, Period: time.Minute, Burst: 1}, Calls: ratelimit.Rate{Count: 1, Period: time.Minute, Burst: 1}}
	lim := ratelimit.New(redistest.Client(t), redistest.Prefix(t), limits, quiet)
	p, stub := setup(t, cfstub.Options{}, Config{Limiter: lim})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: pageURLs(3)})
	pe := purge.AsError(err)
	if pe == nil || !pe.Retryable || !pe.Unsent || res.Items > 1 {
		t.Fatalf("result %+v, err %v", res, err)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("returned before the deadline")
	}
	// Only what the budget allowed reached the CDN.
	if n := len(stub.URLsPurged(zone)); n > 1 {
		t.Errorf("%d URLs reached the CDN with a budget of 1", n)
	}
}

func mustPreset(t *testing.T, plan string) ratelimit.Limits {
	l, err := ratelimit.Preset(plan)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
