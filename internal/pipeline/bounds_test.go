package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSharedBounds: a bound ends no sooner than asked and at most a tick
// later; callers of one tick share a context; the context does end.
func TestSharedBounds(t *testing.T) {
	var s sharedBounds
	now := time.Now()
	for _, d := range []time.Duration{time.Millisecond, 30 * time.Millisecond, dedupeTimeout} {
		ctx := s.within(now, d)
		end, ok := ctx.Deadline()
		if want := now.Add(d); !ok || end.Before(want) || end.After(want.Add(boundTick)) {
			t.Errorf("within(%v): ends %v after now, want %v to %v", d, end.Sub(now), d, d+boundTick)
		}
	}
	a := s.within(now, dedupeTimeout)
	if b := s.within(now.Add(time.Microsecond), dedupeTimeout); b != a {
		t.Error("two callers a microsecond apart got two contexts")
	}
	if c := s.within(now.Add(2*boundTick), dedupeTimeout); c == a {
		t.Error("a caller two ticks later got a context ending too soon for it")
	}
	ctx := s.within(time.Now(), time.Millisecond)
	select {
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("err %v, want the deadline's", ctx.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a 1 ms bound never ended")
	}
}
