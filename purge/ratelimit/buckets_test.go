package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// Without a rate of its own, purge-everything spends (and pauses) the
// call bucket, as on Cloudflare; with one, as Fastly's purge_all, a pause
// of it leaves the URL and call buckets going.
func TestEverythingBucket(t *testing.T) {
	ctx := context.Background()
	shared := New(nil, "x:", Limits{URLs: Rate{10, time.Minute, 10}, Calls: Rate{10, time.Minute, 10}}, quiet)
	shared.Pause(ctx, Everything, time.Hour)
	if g, wait := shared.Take(ctx, Calls, 1); g != 0 || wait < 59*time.Minute {
		t.Errorf("shared: a pause of everything left calls going (granted %d, wait %v)", g, wait)
	}

	apart := New(nil, "x:", Limits{URLs: Rate{10, time.Minute, 10}, Calls: Rate{10, time.Minute, 10},
		Everything: Rate{1000, time.Hour, 1000}}, quiet)
	apart.Pause(ctx, Everything, time.Hour)
	if g, wait := apart.Take(ctx, Everything, 1); g != 0 || wait < 59*time.Minute {
		t.Errorf("apart: everything granted %d, wait %v during its pause", g, wait)
	}
	if g, _ := apart.Take(ctx, Calls, 1); g != 1 {
		t.Error("apart: a pause of everything stopped the call bucket")
	}
	if g, _ := apart.Take(ctx, URLs, 5); g != 5 {
		t.Error("apart: a pause of everything stopped the URL bucket")
	}
}

// Each plan has its own buckets in Redis: a pause or an empty bucket of
// the Free plan leaves the Pro plan's zones going, on every instance.
func TestPlansKeepBucketsApart(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	free, _ := Preset("free")
	pro, _ := Preset("pro")
	cfg := PlanConfig{Prefix: prefix, Default: "pro", Zones: map[string]string{"zf": "free"},
		Limits: map[string]Limits{"free": free, "pro": pro}}
	a, err := NewPlans(rdb, cfg, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPlans(rdb, cfg, quiet, nil)
	ctx := context.Background()
	if a.Plan("zf") != "free" || a.Plan("zp") != "pro" {
		t.Fatalf("plans %q %q", a.Plan("zf"), a.Plan("zp"))
	}

	for range 25 {
		a.For("zf").Take(ctx, Calls, 1)
	}
	a.For("zf").Pause(ctx, Calls, time.Minute)

	if g, _ := b.For("zf").Take(ctx, Calls, 1); g != 0 {
		t.Error("another instance's free zone got a call during the free plan's pause")
	}
	for i := range 25 {
		if g, wait := b.For("zp").Take(ctx, Calls, 1); g != 1 {
			t.Fatalf("pro call %d: granted %d, wait %v; the free plan's bucket stopped the pro plan", i, g, wait)
		}
	}
	if n, _ := rdb.Exists(ctx, "rate:"+PlanPrefix(prefix, "free")+"calls", "rate:"+PlanPrefix(prefix, "pro")+"calls").Result(); n != 2 {
		t.Errorf("%d of the two plans' call buckets in Redis, want both under their own keys", n)
	}
	if _, err := NewPlans(rdb, PlanConfig{Default: "gold", Limits: cfg.Limits}, quiet, nil); err == nil {
		t.Error("a default plan without limits accepted")
	}
}

// A pause longer than LongPause is told once, not again for the 429s that
// extend it; a short one is not told.
func TestLongPauseIsToldOnce(t *testing.T) {
	l := New(nil, "x:", Limits{URLs: Rate{10, time.Minute, 10}, Calls: Rate{10, time.Minute, 10}}, quiet)
	l.LongPause = 10 * time.Second
	var told []time.Duration
	l.OnLongPause = func(b Bucket, d time.Duration) {
		if b != Calls {
			t.Errorf("bucket %s", b)
		}
		told = append(told, d)
	}
	ctx := context.Background()

	l.Pause(ctx, Calls, time.Second)
	l.Pause(ctx, Calls, 30*time.Second)
	l.Pause(ctx, Calls, 40*time.Second)
	l.Pause(ctx, Everything, time.Minute) // Calls, on a Cloudflare budget: already told

	if len(told) != 1 || told[0] != 30*time.Second {
		t.Errorf("told %v, want once, of 30s", told)
	}
}
