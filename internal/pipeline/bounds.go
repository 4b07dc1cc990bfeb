package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// boundTick is how much later than asked a shared bound may end (see
// sharedBounds).
const boundTick = 10 * time.Millisecond

// sharedBounds hands out contexts that end at a moment rounded up to the
// next boundTick: one context, and one timer, for all the callers of a
// tick, not one each. The duplicate check and the mark of every event are
// bounded by dedupeTimeout: two contexts and timers of their own per event
// cost more than the look-ups they bound.
//
// The contexts carry no values and are never cancelled but by their
// deadline: callers must not cancel them.
type sharedBounds struct {
	cur atomic.Pointer[bound]
	mu  sync.Mutex // serializes making a new bound
}

// bound is one tick's context.
type bound struct {
	end    time.Time
	ctx    context.Context
	cancel context.CancelFunc // called by its own timer only
}

// within returns a context ending between now+d and one tick later.
func (s *sharedBounds) within(now time.Time, d time.Duration) context.Context {
	want := now.Add(d)
	if b := s.cur.Load(); b.fits(want) {
		return b.ctx
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.cur.Load(); b.fits(want) {
		return b.ctx
	}
	end := want.Truncate(boundTick).Add(boundTick)
	ctx, cancel := context.WithDeadline(context.Background(), end)
	s.cur.Store(&bound{end: end, ctx: ctx, cancel: cancel})
	return ctx
}

// fits reports whether b ends no sooner than want, and at most a tick
// after it.
func (b *bound) fits(want time.Time) bool {
	return b != nil && !b.end.Before(want) && b.end.Sub(want) <= boundTick
}
