package breaker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// cdn answers every purge with its current error, counting the calls; with
// hold set, a purge waits for it to close.
type cdn struct {
	mu    sync.Mutex
	err   error
	calls int
	hold  chan struct{}
}

func (c *cdn) Name() string { return "cloudflare" }

func (c *cdn) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	c.mu.Lock()
	c.calls++
	err, hold := c.err, c.hold
	c.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if err != nil {
		return purge.Result{Calls: 1}, err
	}
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

func (c *cdn) set(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

func (c *cdn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

var (
	err500    = &purge.Error{Op: "purge", StatusCode: 500, Retryable: true}
	err403    = &purge.Error{Op: "purge", StatusCode: 403, Codes: []int{10000}}
	errBudget = &purge.Error{Op: "purge", Retryable: true, Unsent: true}
	req       = purge.Request{Zone: "z", URLs: []string{"https://a/"}}
)

type transitions struct {
	mu  sync.Mutex
	got []string
}

func (t *transitions) add(from, to State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.got = append(t.got, from.String()+">"+to.String())
}

func (t *transitions) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.got)
}

func waitState(t *testing.T, b *Breaker, want State) {
	t.Helper()
	for range 500 {
		if b.State() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("state %v, want %v", b.State(), want)
}

func TestClosedOpenHalfOpenClosedAndOpenAgain(t *testing.T) {
	c := &cdn{err: err500}
	var tr transitions
	b := New(Config{Next: c, Failures: 3, Cooldown: 100 * time.Millisecond, OnChange: tr.add})
	ctx := context.Background()

	// Two failures: still closed, both reached the CDN.
	for range 2 {
		if _, err := b.Purge(ctx, req); purge.AsError(err) != err500 {
			t.Fatalf("err = %v, want the CDN's 500", err)
		}
	}
	if b.State() != Closed || b.Err() != nil {
		t.Fatalf("after 2 of 3 failures: %v %v", b.State(), b.Err())
	}
	// The third opens it.
	b.Purge(ctx, req)
	if b.State() != Open || b.Err() == nil || !strings.Contains(b.Err().Error(), "circuit open since") {
		t.Fatalf("after 3 failures: %v %v", b.State(), b.Err())
	}
	// Open: fail fast, retryable and unsent, without reaching the CDN.
	_, err := b.Purge(ctx, req)
	pe := purge.AsError(err)
	if pe == nil || !pe.Retryable || !pe.Unsent || !strings.HasPrefix(pe.Message, "circuit open") || pe.RetryAfter < time.Second {
		t.Fatalf("open breaker: err = %#v", pe)
	}
	if c.count() != 3 {
		t.Errorf("CDN saw %d calls, want 3", c.count())
	}

	// After the cool-down: half-open, ready again; one probe goes through.
	waitState(t, b, HalfOpen)
	if b.Err() != nil {
		t.Errorf("half-open must not fail readiness: %v", b.Err())
	}
	c.set(nil)
	if _, err := b.Purge(ctx, req); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if b.State() != Closed || c.count() != 4 {
		t.Fatalf("after a successful probe: %v, %d calls", b.State(), c.count())
	}

	// Failing again opens it again; a failed probe re-opens it at once.
	c.set(err500)
	for range 3 {
		b.Purge(ctx, req)
	}
	waitState(t, b, HalfOpen)
	b.Purge(ctx, req)
	if b.State() != Open {
		t.Fatalf("after a failed probe: %v", b.State())
	}
	want := []string{"closed>open", "open>half-open", "half-open>closed", "closed>open", "open>half-open", "half-open>open"}
	if got := tr.list(); !slices.Equal(got, want) {
		t.Errorf("transitions %q\nwant %q", got, want)
	}
}

func TestOneProbeAtATime(t *testing.T) {
	c := &cdn{err: err500}
	b := New(Config{Next: c, Failures: 1, Cooldown: 50 * time.Millisecond})
	b.Purge(context.Background(), req)
	waitState(t, b, HalfOpen)
	c.set(nil)
	c.mu.Lock()
	c.hold = make(chan struct{})
	c.mu.Unlock()
	probeDone := make(chan error, 1)
	go func() { _, err := b.Purge(context.Background(), req); probeDone <- err }()
	for c.count() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	_, err := b.Purge(context.Background(), req)
	if pe := purge.AsError(err); pe == nil || !pe.Unsent || !strings.Contains(pe.Message, "probe") {
		t.Fatalf("second purge during the probe: %v", err)
	}
	close(c.hold)
	if err := <-probeDone; err != nil || b.State() != Closed {
		t.Fatalf("probe: %v, state %v", err, b.State())
	}
}

// Only transient failures that reached the CDN count: a permanent refusal
// resets the count, back-pressure and a cancelled caller count nothing.
func TestWhatCountsAsAFailure(t *testing.T) {
	c := &cdn{}
	b := New(Config{Next: c, Failures: 2, Cooldown: time.Hour})
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, step := range []struct {
		ctx  context.Context
		err  error
		want State
	}{
		{ctx, err500, Closed},
		{ctx, err403, Closed}, // resets
		{ctx, err500, Closed},
		{ctx, errBudget, Closed},                       // not counted
		{cancelled, err500, Closed},                    // not counted
		{ctx, errors.New("not a purge.Error"), Closed}, // not counted
		{ctx, err500, Open},                            // second in a row
	} {
		c.set(step.err)
		b.Purge(step.ctx, req)
		if b.State() != step.want {
			t.Fatalf("after %v: %v, want %v", step.err, b.State(), step.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	b := New(Config{Next: &cdn{}})
	if b.cfg.Failures != DefaultFailures || b.cfg.Cooldown != DefaultCooldown || b.Name() != "cloudflare" || b.State() != Closed {
		t.Errorf("defaults: %+v", b.cfg)
	}
}
