package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPresets(t *testing.T) {
	for plan, want := range map[string]Limits{
		"free":       {URLs: Rate{800, time.Second, 800}, Calls: Rate{5, time.Minute, 25}},
		"pro":        {URLs: Rate{1500, time.Second, 1500}, Calls: Rate{5, time.Second, 25}},
		"business":   {URLs: Rate{1500, time.Second, 1500}, Calls: Rate{10, time.Second, 50}},
		"enterprise": {URLs: Rate{3000, time.Second, 3000}, Calls: Rate{50, time.Second, 500}},
	} {
		if got, err := Preset(plan); err != nil || got != want {
			t.Errorf("%s: %+v %v", plan, got, err)
		}
	}
	if _, err := Preset("platinum"); err == nil {
		t.Error("unknown plan accepted")
	}
	if r := FromPerSecond(5.0/60, 25); r.Count != 5 || r.Period != time.Minute {
		t.Errorf("5/min = %v", r)
	}
}

// Two instances on one Redis share one bucket: together they get the burst,
// not twice it.
func TestSharedAcrossInstances(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	limits := Limits{URLs: Rate{100, time.Minute, 100}, Calls: Rate{1, time.Minute, 1}}
	a := New(rdb, prefix, limits, quiet)
	b := New(rdb, prefix, limits, quiet)
	ctx := context.Background()
	got := 0
	for range 10 {
		ga, _ := a.Take(ctx, URLs, 20)
		gb, _ := b.Take(ctx, URLs, 20)
		got += ga + gb
	}
	if got != 100 {
		t.Errorf("two instances took %d URLs, want exactly the burst of 100", got)
	}
	// All or nothing: 30 more cannot be had from an empty bucket, nor part of them.
	if g, wait := a.Take(ctx, URLs, 30); g != 0 || wait < 10*time.Second {
		t.Errorf("30 from an empty bucket of 100/min: granted %d, wait %v (want 0, ~18s)", g, wait)
	}
	if g, wait := a.Take(ctx, URLs, 1); g != 0 || wait <= 0 || wait > time.Second {
		t.Errorf("empty bucket: granted %d, wait %v", g, wait)
	}
}

func TestPauseIsShared(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	limits, _ := Preset("pro")
	a := New(rdb, prefix, limits, quiet)
	b := New(rdb, prefix, limits, quiet)
	ctx := context.Background()
	a.Pause(ctx, URLs, 2*time.Second)
	if g, wait := b.Take(ctx, URLs, 10); g != 0 || wait < time.Second {
		t.Errorf("other instance during a pause: granted %d, wait %v", g, wait)
	}
	if g, _ := b.Take(ctx, Calls, 1); g != 1 {
		t.Error("a pause of the URL bucket stopped the call bucket")
	}
}

func TestLocalFallbackWhenRedisIsDown(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := redistest.ClientOf(t, srv.Addr())
	fallbacks := 0
	l := New(rdb, "x:", Limits{URLs: Rate{10, time.Minute, 10}, Calls: Rate{1, time.Minute, 1}}, quiet)
	l.OnFallback = func(Bucket) { fallbacks++ }
	srv.Stop()
	got := 0
	for range 5 {
		g, _ := l.Take(context.Background(), URLs, 2)
		got += g
	}
	if got != 10 || fallbacks == 0 {
		t.Errorf("fallback granted %d (want the local burst 10), fallbacks %d", got, fallbacks)
	}
}

func TestFallbackWarningIsRateLimited(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := redistest.ClientOf(t, srv.Addr())
	logs := &syncbuf.Buffer{}
	l := New(rdb, "x:", Limits{URLs: Rate{1000, time.Second, 1000}, Calls: Rate{1, time.Minute, 1}}, slog.New(slog.NewTextHandler(logs, nil)))
	fallbacks := 0
	l.OnFallback = func(Bucket) { fallbacks++ }
	srv.Stop()
	for range 50 {
		l.Take(context.Background(), URLs, 1)
	}
	if n := strings.Count(logs.String(), "shared rate limit unavailable"); fallbacks != 50 || n != 1 {
		t.Errorf("%d fallbacks logged %d times, want 50 counted and 1 line within %s", fallbacks, n, warnEvery)
	}
}

// Tags counted apart (Akamai) spend their own bucket item by item; without
// a rate of their own they are the Calls bucket.
func TestTagsBucketApart(t *testing.T) {
	apart := New(nil, "test:", Limits{URLs: Rate{10, time.Second, 10}, Calls: Rate{1, time.Minute, 1},
		Tags: Rate{5, time.Minute, 5}}, quiet)
	if got, _ := apart.Take(context.Background(), Tags, 5); got != 5 {
		t.Errorf("tags apart: granted %d of 5", got)
	}
	if got, wait := apart.Take(context.Background(), Tags, 1); got != 0 || wait <= 0 {
		t.Errorf("tags apart, bucket spent: granted %d, wait %v", got, wait)
	}
	if got, _ := apart.Take(context.Background(), Calls, 1); got != 1 {
		t.Error("spending tags spent the call bucket")
	}
	shared := New(nil, "test:", Limits{URLs: Rate{10, time.Second, 10}, Calls: Rate{1, time.Minute, 1}}, quiet)
	if got, _ := shared.Take(context.Background(), Tags, 1); got != 1 {
		t.Error("tags without a rate: no call token")
	}
	if got, _ := shared.Take(context.Background(), Calls, 1); got != 0 {
		t.Error("tags without a rate did not spend the call bucket")
	}
}
