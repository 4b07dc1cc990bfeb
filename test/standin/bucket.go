package standin

import (
	"math"
	"strconv"
	"time"
)

// Bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens per second. A nil *Bucket never throttles. It is not safe for
// concurrent use; a stand-in guards it with its Core's lock.
type Bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket, or nil when rate is 0 (unlimited). A
// zero burst defaults to one second's worth of tokens, and never less than
// minBurst so that one maximal call can pass.
func NewBucket(rate float64, burst, minBurst int) *Bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = math.Max(math.Ceil(rate), float64(minBurst))
	}
	return &Bucket{rate: rate, burst: b, tokens: b}
}

// Take spends n tokens if the bucket holds them. Otherwise it spends nothing
// and says how long until it would. A call needing more than the burst is
// never let through; its wait is what a full bucket would still lack.
func (b *Bucket) Take(now time.Time, n int) (ok bool, wait time.Duration) {
	if b == nil {
		return true, 0
	}
	b.refill(now)
	need := float64(n)
	if b.tokens >= need {
		b.tokens -= need
		return true, 0
	}
	return false, b.seconds(need - b.tokens)
}

// Remaining is how many whole tokens the bucket holds now, as of the last
// Take.
func (b *Bucket) Remaining() int { return int(math.Floor(b.tokens)) }

// UntilFull is how long the bucket takes to fill up again, as of the last
// Take.
func (b *Bucket) UntilFull() time.Duration { return b.seconds(b.burst - b.tokens) }

func (b *Bucket) refill(now time.Time) {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
}

func (b *Bucket) seconds(tokens float64) time.Duration {
	return time.Duration(tokens / b.rate * float64(time.Second))
}

// RetryAfter is d as a Retry-After value: whole seconds, rounded up, as
// CDNs never ask for less than a second.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
