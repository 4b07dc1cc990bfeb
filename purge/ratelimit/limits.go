// Package ratelimit keeps edgepurge inside the CDN's purge rate limits:
// per-account token buckets (per account and plan on Cloudflare: Plans),
// one for single-file URLs and one for tag/host/prefix/everything calls,
// with purge-everything apart where the CDN counts it apart (Fastly's
// hourly API budget: Everything), shared by every instance through Redis
// (GCRA, github.com/go-redis/redis_rate) with a local bucket as fallback
// when Redis cannot be reached.
package ratelimit

import (
	"fmt"
	"time"
)

// Bucket names one of the account's purge budgets.
type Bucket string

// The buckets of an account (of a Cloudflare account and plan).
const (
	// URLs counts single-file (URL) purges, item by item.
	URLs Bucket = "urls"
	// Calls counts tag, host, prefix and purge-everything calls.
	Calls Bucket = "calls"
	// Everything counts purge-everything calls where the CDN counts them
	// apart (Limits.Everything set): Fastly's purge_all spends the user's
	// hourly API budget, which URL and surrogate-key purges do not. Without
	// a rate of its own it is the Calls bucket, as on Cloudflare.
	Everything Bucket = "everything"
	// Tags counts cache tags one by one where the CDN does (Limits.Tags
	// set): Akamai's Fast Purge spends a token per tag, not per call.
	// Without a rate of its own it is the Calls bucket.
	Tags Bucket = "tags"
)

// Rate is one token bucket: Burst tokens, refilled at Count per Period.
type Rate struct {
	Count  int
	Period time.Duration
	Burst  int
}

// PerSecond is the rate in tokens per second.
func (r Rate) PerSecond() float64 { return float64(r.Count) / r.Period.Seconds() }

// String implements fmt.Stringer.
func (r Rate) String() string {
	return fmt.Sprintf("%d/%s burst %d", r.Count, r.Period, r.Burst)
}

// Limits are an account's buckets.
type Limits struct {
	URLs  Rate
	Calls Rate
	// Everything, when set (Count > 0), is a bucket of purge-everything
	// calls of their own; zero, they spend Calls.
	Everything Rate
	// Tags, when set (Count > 0), is a bucket of cache tags counted one
	// by one (Akamai); zero, tag calls spend Calls.
	Tags Rate
}

// apart reports whether purge-everything calls have a bucket of their own.
func (l Limits) apart() bool { return l.Everything.Count > 0 }

// TagsApart reports whether tags are counted one by one in a bucket of
// their own.
func (l Limits) TagsApart() bool { return l.Tags.Count > 0 }

// Preset returns Cloudflare's purge limits for a plan (since April 2025):
// single-file purge 800 URLs/s on Free, 1,500 on Pro and Business, 3,000 on
// Enterprise; tag/host/prefix purges 5 per minute on Free, 5/s on Pro,
// 10/s on Business, 50/s on Enterprise, with buckets of 25/25/50/500.
func Preset(plan string) (Limits, error) {
	switch plan {
	case "free":
		return Limits{URLs: Rate{800, time.Second, 800}, Calls: Rate{5, time.Minute, 25}}, nil
	case "pro", "":
		return Limits{URLs: Rate{1500, time.Second, 1500}, Calls: Rate{5, time.Second, 25}}, nil
	case "business":
		return Limits{URLs: Rate{1500, time.Second, 1500}, Calls: Rate{10, time.Second, 50}}, nil
	case "enterprise":
		return Limits{URLs: Rate{3000, time.Second, 3000}, Calls: Rate{50, time.Second, 500}}, nil
	}
	return Limits{}, fmt.Errorf("unknown Cloudflare plan %q (want free, pro, business or enterprise)", plan)
}

// FromPerSecond turns a float rate into a Rate, per minute when it is
// below one per second (5 per minute stays exact).
func FromPerSecond(perSecond float64, burst int) Rate {
	r := Rate{Count: int(perSecond + 0.5), Period: time.Second, Burst: burst}
	if perSecond < 1 {
		r = Rate{Count: int(perSecond*60 + 0.5), Period: time.Minute, Burst: burst}
	}
	if r.Count < 1 {
		r.Count = 1
	}
	if r.Burst < 1 {
		r.Burst = max(1, r.Count)
	}
	return r
}

// DefaultHeadroom is the share of the CDN's limits edgepurge uses: a grant
// here reaches the CDN a little later and in another order than it was
// given, so running at exactly the CDN's rate would draw the odd 429.
const DefaultHeadroom = 0.9

// Scaled returns the limits times f (rates and bursts, at least 1 each).
func (l Limits) Scaled(f float64) Limits {
	scale := func(r Rate) Rate {
		r.Count = max(1, int(float64(r.Count)*f))
		r.Burst = max(1, int(float64(r.Burst)*f))
		return r
	}
	out := Limits{URLs: scale(l.URLs), Calls: scale(l.Calls)}
	if l.apart() {
		out.Everything = scale(l.Everything)
	}
	if l.TagsApart() {
		out.Tags = scale(l.Tags)
	}
	return out
}
