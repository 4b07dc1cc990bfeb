package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter hands out purge budget. It is safe for concurrent use.
type Limiter struct {
	rdb    redis.UniversalClient // nil: local buckets only
	gcra   *redis_rate.Limiter
	prefix string
	limits Limits
	log    *slog.Logger
	local  map[Bucket]*local
	// OnFallback, if set, is told each time Redis could not be used.
	OnFallback func(b Bucket)
	// LongPause and OnLongPause, if set, make a pause longer than
	// LongPause (a request's deadline: the events it stops will not be
	// purged in time) visible: OnLongPause is told once, when a pause
	// first reaches past LongPause, not again for the 429s that extend it.
	LongPause   time.Duration
	OnLongPause func(b Bucket, d time.Duration)

	mu     sync.Mutex
	paused map[Bucket]time.Time
	// lastWarn and muted rate-limit the fallback warning: every budget
	// take falls back while Redis is down, hundreds a second in a storm.
	lastWarn time.Time
	muted    int
}

// warnEvery spaces the warnings about the shared budget being unavailable.
const warnEvery = 10 * time.Second

// New returns a Limiter for one account. Buckets live in Redis under
// prefix (e.g. "edgepurge:ratelimit:ACCOUNT:"); rdb may be nil.
func New(rdb redis.UniversalClient, prefix string, limits Limits, log *slog.Logger) *Limiter {
	l := &Limiter{
		rdb: rdb, prefix: prefix, limits: limits, log: log,
		local:  map[Bucket]*local{URLs: newLocal(limits.URLs), Calls: newLocal(limits.Calls)},
		paused: map[Bucket]time.Time{},
	}
	if limits.apart() {
		l.local[Everything] = newLocal(limits.Everything)
	}
	if limits.TagsApart() {
		l.local[Tags] = newLocal(limits.Tags)
	}
	if rdb != nil {
		l.gcra = redis_rate.NewLimiter(rdb)
	}
	return l
}

// Limits returns the buckets' rates.
func (l *Limiter) Limits() Limits { return l.limits }

// bucket is the bucket b stands for: Everything and Tags are Calls
// unless the limits give them a rate of their own.
func (l *Limiter) bucket(b Bucket) Bucket {
	if b == Everything && !l.limits.apart() || b == Tags && !l.limits.TagsApart() {
		return Calls
	}
	return b
}

func (l *Limiter) rate(b Bucket) Rate {
	switch b {
	case URLs:
		return l.limits.URLs
	case Everything:
		return l.limits.Everything
	case Tags:
		return l.limits.Tags
	}
	return l.limits.Calls
}

// redisTimeout bounds a budget request to Redis; past it, the local bucket
// answers, so a slow Redis cannot stall purging.
const redisTimeout = 100 * time.Millisecond

// Take grants all n tokens of bucket b now (n is capped at the burst), or
// none and says how long until n are there. All or nothing on purpose: a
// caller given a trickle of tokens would send a trickle of tiny calls,
// while one that waits for its whole batch sends full ones, and its batch
// keeps growing while it waits. A pause (after the CDN's 429) is honoured first, on
// this instance and, through Redis, on every other.
func (l *Limiter) Take(ctx context.Context, b Bucket, n int) (int, time.Duration) {
	b = l.bucket(b)
	now := time.Now()
	l.mu.Lock()
	until := l.paused[b]
	l.mu.Unlock()
	if wait := until.Sub(now); wait > 0 {
		return 0, wait
	}
	r := l.rate(b)
	n = min(n, r.Burst)
	if l.gcra == nil {
		return l.local[b].take(n, now)
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	pipe := l.rdb.Pipeline()
	pttl := pipe.PTTL(ctx, l.pauseKey(b))
	if _, err := pipe.Exec(ctx); err == nil {
		if wait := pttl.Val(); wait > 0 {
			return 0, wait
		}
	}
	res, err := l.gcra.AllowN(ctx, l.prefix+string(b), redis_rate.Limit{Rate: r.Count, Period: r.Period, Burst: r.Burst}, n)
	if err != nil {
		if l.OnFallback != nil {
			l.OnFallback(b)
		}
		l.warnFallback(b, err, now)
		return l.local[b].take(n, now)
	}
	if res.Allowed > 0 {
		return res.Allowed, 0
	}
	return 0, max(res.RetryAfter, time.Millisecond)
}

// warnFallback logs that the shared budget could not be used, at most once
// per warnEvery, saying how many such fallbacks it did not log.
func (l *Limiter) warnFallback(b Bucket, err error, now time.Time) {
	l.mu.Lock()
	if now.Sub(l.lastWarn) < warnEvery {
		l.muted++
		l.mu.Unlock()
		return
	}
	muted := l.muted
	l.lastWarn, l.muted = now, 0
	l.mu.Unlock()
	l.log.Warn("shared rate limit unavailable, using the local bucket", "bucket", string(b), "err", err, "not_logged_since_last", muted)
}

// Pause stops bucket b for d, here and on every instance sharing the
// Redis: the CDN answered 429 and said when to come back.
//
// Only bucket b stops: a pause of Everything (Fastly's purge_all) leaves
// the URL and key purges going.
func (l *Limiter) Pause(ctx context.Context, b Bucket, d time.Duration) {
	if d <= 0 {
		return
	}
	b = l.bucket(b)
	now := time.Now()
	until := now.Add(d)
	l.mu.Lock()
	before := l.paused[b]
	if until.After(before) {
		l.paused[b] = until
	}
	l.mu.Unlock()
	if l.OnLongPause != nil && d > l.LongPause && before.Sub(now) <= l.LongPause {
		l.OnLongPause(b, d)
	}
	if l.rdb != nil {
		ctx, cancel := context.WithTimeout(ctx, redisTimeout)
		defer cancel()
		if err := l.rdb.Set(ctx, l.pauseKey(b), "1", d).Err(); err != nil {
			l.log.Warn("could not share the rate-limit pause", "bucket", string(b), "err", err)
		}
	}
}

// PausedUntil is when this instance's pause of bucket b ends (after a
// 429); zero or past when it is not paused.
func (l *Limiter) PausedUntil(b Bucket) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused[l.bucket(b)]
}

func (l *Limiter) pauseKey(b Bucket) string { return l.prefix + string(b) + ":paused" }
