package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// boundTick is how much sooner than asked a shared bound may end (see
// sharedBounds).
const boundTick = 10 * time.Millisecond

// sharedBounds hands out contexts that end at a moment rounded down to a
// boundTick: one context, and one timer, for all the callers of a tick,
// not one each. Every event's duplicate check, mark and purge are bounded
// by a time from now that is the same for all (dedupeTimeout, the purge
// timeout); contexts and timers of their own, three per event, cost more
// than what they bound, and registering each with a shared parent makes
// every event take the parent's lock twice.
//
// The contexts end at their deadline or with parent (nil: never), and
// carry parent's values only; callers must not cancel them.
type sharedBounds struct {
	parent context.Context
	cur    atomic.Pointer[bound]
	mu     sync.Mutex // serializes making a new bound
}

// bound is one tick's context.
type bound struct {
	end    time.Time
	ctx    context.Context
	cancel context.CancelFunc // called by its timer, or parent's end
}

// until returns a context ending no later than want, at most a tick
// sooner. want should be well ahead of now.
func (s *sharedBounds) until(want time.Time) context.Context {
	if b := s.cur.Load(); b.fits(want) {
		return b.ctx
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.cur.Load(); b.fits(want) {
		return b.ctx
	}
	parent := s.parent
	if parent == nil {
		parent = context.Background()
	}
	end := want.Truncate(boundTick)
	ctx, cancel := context.WithDeadline(parent, end)
	s.cur.Store(&bound{end: end, ctx: ctx, cancel: cancel})
	return ctx
}

// fits reports whether b ends no later than want, and less than a tick
// before it.
func (b *bound) fits(want time.Time) bool {
	return b != nil && !b.end.After(want) && want.Sub(b.end) < boundTick
}
