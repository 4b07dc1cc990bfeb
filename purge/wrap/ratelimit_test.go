package wrap

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
	"github.com/edgepurge/edgepurge/purge/queue"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// waitFor polls cond for up to 10 s (a loaded machine's worth).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// Fastly counts purge_all against the user's hourly API budget and URL
// and surrogate-key purges not at all: after another tool spent the hour,
// purge_all's 429 pauses purge_all until the reset while the same
// service's URL and key purges go through in the same second.
func TestFastlyPurgeAll429LeavesURLAndKeyPurges(t *testing.T) {
	const token, service, host = "fastly-token-0123456789", "svc1", "status.example.com"
	stub := fastlystub.New(fastlystub.Options{Tokens: []string{token}, Domains: map[string]string{host: service}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	fp, err := fastly.New(fastly.Config{APIToken: token, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.New(nil, "t:", ratelimit.Limits{
		URLs:       ratelimit.Rate{Count: 500, Period: time.Second, Burst: 1000},
		Calls:      ratelimit.Rate{Count: 50, Period: time.Second, Burst: 100},
		Everything: ratelimit.Rate{Count: fastly.PurgeAllPerHour, Period: time.Hour, Burst: fastly.PurgeAllPerHour},
	}, quiet)
	s := Build(fp, Layers{Queue: &queue.Config{MaxURLsPerCall: 1, MaxItemsPerCall: fastly.DefaultMaxKeysPerCall,
		MaxInflight: 8, Limiter: lim, CallTimeout: 10 * time.Second}})
	stub.SetAPIWindow(token, 0, time.Now().Add(time.Hour))

	allCtx, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	allDone := make(chan error, 1)
	go func() {
		_, err := s.Purger.Purge(allCtx, purge.Request{Zone: service, Everything: true})
		allDone <- err
	}()
	waitFor(t, "purge_all answered 429", func() bool { return stub.Throttled() > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := s.Purger.Purge(ctx, purge.Request{Zone: service, URLs: []string{"https://" + host + "/"}, Tags: []string{"page:1"}})

	if err != nil || res.Items != 2 {
		t.Fatalf("URL and key purge after purge_all's 429: %+v, %v; want both purged within the second", res, err)
	}
	purged := stub.Purged(service)
	if _, ok := purged[host+"/"]; !ok {
		t.Errorf("the URL was not purged: %v", purged)
	}
	if _, ok := purged["page:1"]; !ok {
		t.Errorf("the surrogate key was not purged: %v", purged)
	}
	if _, ok := purged[fastlystub.AllItem]; ok {
		t.Error("purge_all went through over the spent hour")
	}
	select {
	case err := <-allDone:
		t.Fatalf("purge_all returned %v before its reset", err)
	default:
	}
	// The client pauses the bucket once it has read the 429, which the
	// stand-in counted before answering: on a busy machine, later.
	waitFor(t, "purge_all's bucket paused until the reset", func() bool {
		return time.Until(lim.PausedUntil(ratelimit.Everything)) > 50*time.Minute
	})
	if g, wait := lim.Take(context.Background(), ratelimit.Everything, 1); g != 0 || wait < 50*time.Minute {
		t.Errorf("purge_all's bucket: granted %d, wait %v; want it paused until the reset, an hour away", g, wait)
	}
	stopAll()
	if err := <-allDone; err == nil {
		t.Error("purge_all reported success")
	}
	if n := len(stub.PurgeCalls()); n != 3 {
		t.Errorf("%d purge calls, want 3: one purge_all (429, not retried before the reset), one URL, one key", n)
	}
}

// Cloudflare keeps the purge buckets per account and plan: a Free zone's
// 429 pauses the Free plan's bucket only, and a Pro zone of the same
// account purges on.
func TestFreeZone429LeavesProZone(t *testing.T) {
	const token = "cf-token-0123456789"
	const free, pro = "f0000000000000000000000000000000", "b0000000000000000000000000000000"
	stub := cfstub.New(cfstub.Options{Tokens: []string{token}, FlexRate: 5, FlexBurst: 25,
		Plans: []cfstub.Plan{{Name: "free", Zones: []string{free}, FlexRate: 0.001, FlexBurst: 1}}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	cf, err := cloudflare.New(cloudflare.Config{APIToken: token, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	freeLimits, _ := ratelimit.Preset("free")
	proLimits, _ := ratelimit.Preset("pro")
	plans, err := ratelimit.NewPlans(nil, ratelimit.PlanConfig{Prefix: "t:", Default: "pro", Zones: map[string]string{free: "free"},
		Limits: map[string]ratelimit.Limits{"free": freeLimits, "pro": proLimits}}, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := Build(cf, Layers{Queue: &queue.Config{MaxInflight: 4, CallTimeout: 10 * time.Second,
		Limiters: func(zone string) queue.Limiter { return plans.For(zone) }}})
	tags := func(zone, tag string, d time.Duration) (purge.Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return s.Purger.Purge(ctx, purge.Request{Zone: zone, Tags: []string{tag}})
	}

	if _, err := tags(free, "a", 10*time.Second); err != nil {
		t.Fatalf("the free zone's first tag purge: %v", err)
	}
	_, freeErr := tags(free, "b", 2*time.Second) // the stand-in's free bucket is empty: 429, ~1000 s
	proRes, proErr := tags(pro, "c", time.Second)

	if pe := purge.AsError(freeErr); pe == nil || pe.StatusCode != 429 || !pe.Retryable {
		t.Errorf("the free zone's second purge: %v, want its 429, waiting out the pause", freeErr)
	}
	if stub.Throttled() != 1 {
		t.Errorf("the stand-in throttled %d calls, want the free zone's one", stub.Throttled())
	}
	if proErr != nil || proRes.Items != 1 {
		t.Errorf("the pro zone's purge after the free zone's 429: %+v, %v; want it purged within the second", proRes, proErr)
	}
	if g, _ := plans.For(pro).Take(context.Background(), ratelimit.Calls, 1); g != 1 {
		t.Error("the pro plan's bucket is paused")
	}
	if g, wait := plans.For(free).Take(context.Background(), ratelimit.Calls, 1); g != 0 || wait < 10*time.Minute {
		t.Errorf("the free plan's bucket: granted %d, wait %v; want it paused for the 429's Retry-After", g, wait)
	}
}
