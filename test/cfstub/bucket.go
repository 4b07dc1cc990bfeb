package cfstub

import (
	"math"
	"time"
)

// bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens per second. A nil *bucket never throttles.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket, or nil when rate is 0 (unlimited). A zero
// burst defaults to one second's worth of tokens, and never less than
// minBurst so that one maximal call can pass.
func newBucket(rate float64, burst, minBurst int) *bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = math.Max(math.Ceil(rate), float64(minBurst))
	}
	return &bucket{rate: rate, burst: b, tokens: b}
}

// take spends n tokens if the bucket holds them. Otherwise it spends nothing
// and says how long until it would. A call needing more than the burst is
// never let through; its wait is what a full bucket would still lack.
func (b *bucket) take(now time.Time, n int) (ok bool, wait time.Duration) {
	if b == nil {
		return true, 0
	}
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	need := float64(n)
	if b.tokens >= need {
		b.tokens -= need
		return true, 0
	}
	missing := need - b.tokens
	return false, time.Duration(missing / b.rate * float64(time.Second))
}
