package app

import (
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/queue"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/retry"
)

// cloudflareLimits are the account's purge limits: the plan's preset,
// overridden by explicit values, with the default headroom.
func cloudflareLimits(c config.Cloudflare) (ratelimit.Limits, error) {
	l, err := ratelimit.Preset(c.Plan)
	if err != nil {
		return l, err
	}
	rl := c.RateLimit
	if rl.URLsPerSecond > 0 {
		l.URLs = ratelimit.FromPerSecond(rl.URLsPerSecond, rl.URLBurst)
	} else if rl.URLBurst > 0 {
		l.URLs.Burst = rl.URLBurst
	}
	if rl.CallsPerSecond > 0 {
		l.Calls = ratelimit.FromPerSecond(rl.CallsPerSecond, rl.CallBurst)
	} else if rl.CallBurst > 0 {
		l.Calls.Burst = rl.CallBurst
	}
	return l.Scaled(ratelimit.DefaultHeadroom), nil
}

// coalesced wraps the Cloudflare purger in the coalescing, batching,
// rate-limited layer, which retries transient failures through its queue;
// with coalescing off, in a retrying purger (package retry). Both count
// each retry with onRetry and stop at the event's deadline.
func coalesced(next purge.Purger, cfg *config.Config, rdb redis.UniversalClient, m *metrics.Metrics, onRetry func(reason string), log *slog.Logger) (purge.Purger, error) {
	cf := cfg.Cloudflare
	if !cf.Coalescing() {
		log.Warn("coalescing is off: one CDN call per event (cloudflare.coalesce=false)")
		return retry.New(retry.Config{Next: next, OnRetry: onRetry}), nil
	}
	var lim queue.Limiter
	if !cf.RateLimit.Disabled {
		limits, err := cloudflareLimits(cf)
		if err != nil {
			return nil, err
		}
		l := ratelimit.New(rdb, "edgepurge:ratelimit:"+cf.RateLimit.Account+":", limits, log)
		l.OnFallback = func(b ratelimit.Bucket) { m.RateLimitFallbacks.WithLabelValues(string(b)).Inc() }
		lim = l
		log.Info("cdn rate limits", "plan", cf.Plan, "urls", limits.URLs.String(), "calls", limits.Calls.String())
	}
	return queue.New(queue.Config{
		Next:            next,
		MaxURLsPerCall:  cf.MaxURLsPerCall,
		MaxItemsPerCall: 100,
		MaxInflight:     cf.MaxInflightCalls,
		Limiter:         lim,
		Observer:        m.CDN(next.Name()),
		CallTimeout:     cfg.Server.PurgeTimeout,
		OnRetry:         onRetry,
	}), nil
}

// keyInvalidator is the Redis side: coalesced and batched like the CDN
// side, unless coalescing is off.
func keyInvalidator(cfg *config.Config, rdb redis.UniversalClient) fanout.KeyInvalidator {
	if !cfg.Cloudflare.Coalescing() {
		return cache.New(rdb)
	}
	return cache.NewCoalescer(rdb)
}
