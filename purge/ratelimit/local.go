package ratelimit

import (
	"sync"
	"time"
)

// local is an in-process token bucket: the fallback when Redis cannot be
// reached. It knows nothing of other instances, so while Redis is down the
// account may see up to instances × rate; the CDN's 429s then pause it.
type local struct {
	mu     sync.Mutex
	rate   Rate
	tokens float64
	last   time.Time
}

func newLocal(r Rate) *local {
	return &local{rate: r, tokens: float64(r.Burst), last: time.Now()}
}

// take grants all n tokens, or none and says how long until n are there.
func (l *local) take(n int, now time.Time) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	perSec := l.rate.PerSecond()
	l.tokens = min(float64(l.rate.Burst), l.tokens+now.Sub(l.last).Seconds()*perSec)
	l.last = now
	if l.tokens < float64(n) {
		return 0, time.Duration((float64(n) - l.tokens) / perSec * float64(time.Second))
	}
	l.tokens -= float64(n)
	return n, 0
}
