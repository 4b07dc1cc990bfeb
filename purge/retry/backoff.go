// Package retry decides when a failed CDN purge is tried again: transient
// failures (no answer, a timeout, 5xx, 429) are retried with exponential
// backoff and jitter, never sooner than the CDN's Retry-After, and only
// while the request's deadline leaves time; permanent refusals (a bad zone,
// a bad token, a bad request) are not retried. The model is Prometheus
// Alertmanager's notify RetryStage: check the context first, stop at once
// on an unrecoverable error, and return the last failure seen when the
// deadline ends the retrying.
//
// Backoff is the policy; the coalescing queue (package purge/queue)
// applies it to its batches.
package retry

import (
	"math/rand/v2"
	"time"
)

// Defaults of Backoff.
const (
	DefaultInitial    = 100 * time.Millisecond
	DefaultMax        = 5 * time.Second
	DefaultMultiplier = 2.0
)

// Backoff is an exponential backoff with "equal jitter": the n-th wait is
// drawn uniformly from [d/2, d] where d = Initial·Multiplier^(n-1), capped
// at Max, so concurrent retriers spread out but never retry sooner than
// half the nominal wait. The zero value uses the defaults.
type Backoff struct {
	// Initial is the nominal wait after the first failure.
	Initial time.Duration
	// Max caps the nominal wait (a Retry-After may still be longer).
	Max time.Duration
	// Multiplier grows the nominal wait from one attempt to the next.
	Multiplier float64
	// Rand returns a number in [0, 1); nil means math/rand/v2. Tests fix it.
	Rand func() float64
}

// Nominal is the wait after failed attempt number attempt (1-based) before
// jitter: Initial·Multiplier^(attempt-1), at most Max.
func (b Backoff) Nominal(attempt int) time.Duration {
	initial, maxWait, mult := b.Initial, b.Max, b.Multiplier
	if initial <= 0 {
		initial = DefaultInitial
	}
	if maxWait <= 0 {
		maxWait = DefaultMax
	}
	if mult < 1 {
		mult = DefaultMultiplier
	}
	d := float64(initial)
	for i := 1; i < attempt && d < float64(maxWait); i++ {
		d *= mult
	}
	return min(time.Duration(d), maxWait)
}

// Delay is how long to wait after failed attempt number attempt (1-based)
// before the next one: the jittered nominal wait, and never less than the
// CDN's retryAfter, which may exceed Max (the CDN said when it will take
// calls again; sooner is wasted).
func (b Backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	d := b.Nominal(attempt)
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	jittered := d/2 + time.Duration(r()*float64(d/2))
	return max(jittered, retryAfter)
}
