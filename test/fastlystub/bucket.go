package fastlystub

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

// newBucket returns a full bucket, or nil when rate is 0 (unlimited). A
// zero burst defaults to one second's worth of tokens, and at least one.
func newBucket(rate float64, burst int) *bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = math.Max(math.Ceil(rate), 1)
	}
	return &bucket{rate: rate, burst: b, tokens: b}
}

// take spends one token if the bucket holds it. Otherwise it spends nothing
// and says how long until it would.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, b.seconds(1 - b.tokens)
}

// remaining is how many whole calls the bucket would let through now.
func (b *bucket) remaining() int { return int(math.Floor(b.tokens)) }

// untilFull is how long the bucket takes to fill up again.
func (b *bucket) untilFull() time.Duration { return b.seconds(b.burst - b.tokens) }

func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
}

func (b *bucket) seconds(tokens float64) time.Duration {
	return time.Duration(tokens / b.rate * float64(time.Second))
}
