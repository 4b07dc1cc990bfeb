package standin

import (
	"context"
	"net/http"
	"time"
)

// SetLatency changes the delay added before every answer.
func (c *Core[C, F, K]) SetLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// Hang(true) makes calls wait without answering until the client gives up;
// Hang(false) lets the waiting calls and all later ones through.
func (c *Core[C, F, K]) Hang(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case on && c.hang == nil:
		c.hang = make(chan struct{})
	case !on && c.hang != nil:
		close(c.hang)
		c.hang = nil
	}
}

// Waiting is how many calls are held by Hang or latency right now, so that a
// test can wait for a call to be in flight before acting.
func (c *Core[C, F, K]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// Await applies the injected latency and hang. It reports false when the
// client gave up or the server closed, in which case nothing is answered.
func (c *Core[C, F, K]) Await(ctx context.Context) bool {
	c.mu.Lock()
	latency, hang := c.latency, c.hang
	c.waiting++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.waiting--
		c.mu.Unlock()
	}()

	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return false
		case <-c.closed:
			return false
		}
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		case <-c.closed:
			return false
		}
	}
	return true
}

// Hold runs Await for a call about to be served. When the client gave up or
// the server closed, it records call as it stands (unanswered) and drops
// the connection by panicking with http.ErrAbortHandler: returning normally
// would send an empty 200.
func (c *Core[C, F, K]) Hold(r *http.Request, call C) {
	if !c.Await(r.Context()) {
		c.Record(call)
		panic(http.ErrAbortHandler)
	}
}

// Track wraps next to count the calls being served, for PeakInFlight.
func (c *Core[C, F, K]) Track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.inFlight++
		c.peak = max(c.peak, c.inFlight)
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.inFlight--
			c.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// PeakInFlight is the most calls served at once through Track since the
// Core was made or Reset.
func (c *Core[C, F, K]) PeakInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

// SetFailure makes the next count calls fail with f (every call until
// ClearFailure or Reset when count is 0 or less). The stand-in turns f into
// its CDN's answer.
func (c *Core[C, F, K]) SetFailure(f F, count int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failure, c.failLeft = &f, count
}

// ClearFailure removes the injected failure.
func (c *Core[C, F, K]) ClearFailure() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failure = nil
}

// Failure returns the injected failure for one call, spending one of its
// count, or false when no failure is set.
func (c *Core[C, F, K]) Failure() (F, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.failure
	if f == nil {
		var zero F
		return zero, false
	}
	if c.failLeft > 0 {
		c.failLeft--
		if c.failLeft == 0 {
			c.failure = nil
		}
	}
	return *f, true
}
