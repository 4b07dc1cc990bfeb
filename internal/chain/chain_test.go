package chain

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
)

// scriptedPurger answers with a fixed result; the real purgers are tested
// in their own packages and end to end in package app.
type scriptedPurger struct {
	name  string
	err   error
	delay time.Duration
	calls atomic.Int32
}

func (p *scriptedPurger) Name() string { return p.name }

func (p *scriptedPurger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	p.calls.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return purge.Result{}, &purge.Error{Op: "purge", Message: ctx.Err().Error(), Retryable: true}
	}
	if p.err != nil {
		return purge.Result{Calls: 1}, p.err
	}
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

type scriptedKeys struct {
	err   error
	calls atomic.Int32
}

func (k *scriptedKeys) Name() string { return "redis" }

func (k *scriptedKeys) Invalidate(_ context.Context, keys, sets []string) (cache.Invalidation, error) {
	k.calls.Add(1)
	return cache.Invalidation{Keys: len(keys), Sets: len(sets)}, k.err
}

var samplePlan = plan.Plan{Zone: "z", URLs: []string{"https://a/", "https://a/history"}, Tags: []string{"t"}, Keys: []string{"k"}}

func TestStatuses(t *testing.T) {
	cdnErr := &purge.Error{Op: "purge 2 urls", StatusCode: 500, Codes: []int{10000}, Retryable: true}
	for _, tc := range []struct {
		name            string
		cdnErr, keysErr error
		want            string
		cdnStatus       string
	}{
		{"all ok", nil, nil, StatusPurged, BackendOK},
		{"cdn failed", cdnErr, nil, StatusPartial, BackendFailed},
		// Redis is the first step: the CDN after it is not purged (it would
		// refill from an origin still serving the old keys).
		{"redis failed", nil, errors.New("connection refused"), StatusFailed, BackendSkipped},
		{"both would fail", cdnErr, errors.New("connection refused"), StatusFailed, BackendSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cdn := &scriptedPurger{name: "cdn", err: tc.cdnErr}
			f := New(Config{CDN: []purge.Purger{cdn}, Keys: &scriptedKeys{err: tc.keysErr}})
			a := run(f, context.Background(), "id1", samplePlan, false)
			if a.Status != tc.want || a.OK() != (tc.want == StatusPurged) {
				t.Errorf("status = %q, want %q", a.Status, tc.want)
			}
			r := a.Results[0]
			if r.Status != tc.cdnStatus {
				t.Fatalf("cdn result %+v, want status %s", r, tc.cdnStatus)
			}
			switch tc.cdnStatus {
			case BackendOK:
				if r.Items != 3 {
					t.Errorf("cdn items = %d", r.Items)
				}
			case BackendFailed:
				if r.ErrorCodes[0] != 10000 || !r.Retryable || r.Error == "" {
					t.Errorf("cdn failure not carried: %+v", r)
				}
			case BackendSkipped:
				if cdn.calls.Load() != 0 || !r.Retryable || r.Error == "" {
					t.Errorf("skipped cdn: %d calls, result %+v", cdn.calls.Load(), r)
				}
				if failed, skipped := a.StoppedAt(); failed != "redis" || len(skipped) != 1 || skipped[0] != "cdn" {
					t.Errorf("StoppedAt = %q, %q", failed, skipped)
				}
			}
		})
	}
}

// clock notes when each step started and ended.
type clock struct {
	mu     sync.Mutex
	events []string
}

func (c *clock) note(e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

type clockedPurger struct {
	name string
	c    *clock
	err  error
}

func (p clockedPurger) Name() string { return p.name }

func (p clockedPurger) Purge(_ context.Context, req purge.Request) (purge.Result, error) {
	p.c.note(p.name + " start")
	time.Sleep(2 * time.Millisecond)
	p.c.note(p.name + " end")
	return purge.Result{Items: req.Items(), Calls: 1}, p.err
}

type clockedKeys struct{ c *clock }

func (clockedKeys) Name() string { return "redis" }

func (k clockedKeys) Invalidate(_ context.Context, keys, sets []string) (cache.Invalidation, error) {
	k.c.note("redis start")
	time.Sleep(2 * time.Millisecond)
	k.c.note("redis end")
	return cache.Invalidation{Keys: len(keys), Sets: len(sets)}, nil
}

func TestStepsRunInTheOrderACacheRefills(t *testing.T) {
	c := &clock{}
	f := New(Config{
		CDN:  []purge.Purger{clockedPurger{name: "varnish", c: c}, clockedPurger{name: "cloudflare", c: c}},
		Keys: clockedKeys{c},
	})
	a := run(f, context.Background(), "id", samplePlan, false)
	want := []string{"redis start", "redis end", "varnish start", "varnish end", "cloudflare start", "cloudflare end"}
	if a.Status != StatusPurged || !slices.Equal(c.events, want) {
		t.Errorf("%s, steps %q, want %q", a.Status, c.events, want)
	}
}

func TestAFailedInnerCDNLeavesTheOuterOnesUnpurged(t *testing.T) {
	c := &clock{}
	inner := &purge.Error{Op: "purge varnish", Message: "node down", Retryable: true}
	f := New(Config{
		CDN:  []purge.Purger{clockedPurger{name: "varnish", c: c, err: inner}, clockedPurger{name: "cloudflare", c: c}},
		Keys: clockedKeys{c},
	})
	a := run(f, context.Background(), "id", samplePlan, false)
	if slices.Contains(c.events, "cloudflare start") {
		t.Errorf("the outer CDN was purged after the inner one failed: %q", c.events)
	}
	if a.Status != StatusPartial || a.Results[1].Status != BackendSkipped || a.Results[2].Status != BackendOK {
		t.Errorf("answer %+v", a.Results)
	}
	// The rest of the chain, run again on its own, runs in order too.
	c.events = nil
	f2 := New(Config{
		CDN:  []purge.Purger{clockedPurger{name: "varnish", c: c}, clockedPurger{name: "cloudflare", c: c}},
		Keys: clockedKeys{c},
	})
	b := runOn(f2, context.Background(), []string{"cloudflare", "varnish"}, "id", samplePlan)
	if want := []string{"varnish start", "varnish end", "cloudflare start", "cloudflare end"}; b.Status != StatusPurged || !slices.Equal(c.events, want) {
		t.Errorf("re-drive: %s, steps %q, want %q", b.Status, c.events, want)
	}
	a.Merge(&b)
	if a.Status != StatusPurged {
		t.Errorf("merged: %s %+v", a.Status, a.Results)
	}
}

func TestDryRunCallsNoBackend(t *testing.T) {
	cdn, keys := &scriptedPurger{name: "cdn"}, &scriptedKeys{}
	a := run(New(Config{CDN: []purge.Purger{cdn}, Keys: keys}), context.Background(), "id", samplePlan, true)
	if a.Status != StatusDryRun || cdn.calls.Load() != 0 || keys.calls.Load() != 0 {
		t.Errorf("dry run: status %q, cdn calls %d, redis calls %d", a.Status, cdn.calls.Load(), keys.calls.Load())
	}
	if a.Results[0].Status != BackendDryRun || a.Results[0].Items != 3 {
		t.Errorf("results %+v", a.Results)
	}
}

func TestDeadlineBoundsTheWholePurge(t *testing.T) {
	slow := &scriptedPurger{name: "cdn", delay: time.Hour}
	f := New(Config{CDN: []purge.Purger{slow}, Keys: &scriptedKeys{}, Timeout: 50 * time.Millisecond})
	done := make(chan Answer)
	go func() { done <- run(f, context.Background(), "id", samplePlan, false) }()
	select {
	case a := <-done:
		if a.Status != StatusPartial || !a.Results[0].Retryable {
			t.Errorf("answer %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run ignored its deadline")
	}
}

func TestEmptyPartsAreNotSent(t *testing.T) {
	cdn, keys := &scriptedPurger{name: "cdn"}, &scriptedKeys{}
	a := run(New(Config{CDN: []purge.Purger{cdn}, Keys: keys}), context.Background(), "id", plan.Plan{Keys: []string{"k"}}, false)
	if cdn.calls.Load() != 0 || keys.calls.Load() != 1 || a.Status != StatusPurged {
		t.Errorf("cdn calls %d, redis calls %d, status %q", cdn.calls.Load(), keys.calls.Load(), a.Status)
	}
}

// run is f.Run answering by value, as the tests read it.
func run(f *Chain, ctx context.Context, id string, p plan.Plan, dryRun bool) Answer {
	var a Answer
	f.Run(ctx, id, &p, dryRun, &a)
	return a
}

// runOn is f.RunOn answering by value, as the tests read it.
func runOn(f *Chain, ctx context.Context, backends []string, id string, p plan.Plan) Answer {
	var a Answer
	f.RunOn(ctx, backends, id, &p, &a)
	return a
}
