package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSharedBounds: a bound ends no later than asked and less than a tick
// sooner; callers of one tick share a context; the context does end, at
// its deadline or with its parent.
func TestSharedBounds(t *testing.T) {
	var s sharedBounds
	now := time.Now()
	for _, d := range []time.Duration{30 * time.Millisecond, dedupeTimeout, time.Minute} {
		end, ok := s.until(now.Add(d)).Deadline()
		if want := now.Add(d); !ok || end.After(want) || !end.After(want.Add(-boundTick)) {
			t.Errorf("until now+%v: ends %v after now, want %v to %v", d, end.Sub(now), d-boundTick, d)
		}
	}
	a := s.until(now.Add(time.Hour))
	if b := s.until(now.Add(time.Hour + time.Microsecond)); b != a && now.Add(time.Hour).Truncate(boundTick) == now.Add(time.Hour+time.Microsecond).Truncate(boundTick) {
		t.Error("two callers of one tick got two contexts")
	}
	if c := s.until(now.Add(time.Hour + 2*boundTick)); c == a {
		t.Error("a caller two ticks later got a context ending too soon for it")
	}
	endsWith(t, s.until(time.Now().Add(2*boundTick)), context.DeadlineExceeded)
	parent, cancel := context.WithCancel(context.Background())
	p := sharedBounds{parent: parent}
	ctx := p.until(time.Now().Add(time.Hour))
	cancel()
	endsWith(t, ctx, context.Canceled)
}

// endsWith waits for ctx to end (5 s at most) and checks its error.
func endsWith(t *testing.T, ctx context.Context, want error) {
	t.Helper()
	select {
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), want) {
			t.Errorf("ended with %v, want %v", ctx.Err(), want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("never ended, want %v", want)
	}
}
