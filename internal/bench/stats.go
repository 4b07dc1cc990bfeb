package bench

import (
	"math"
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p % of the values
// at or below it. It is exact (no histogram buckets); 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median returns the median of xs (the mean of the middle two for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cdnFigures are what the stand-in saw during one phase.
type cdnFigures struct {
	calls        int
	urlsMean     float64
	urlsMax      int
	maxURLsInSec int
}

// summarizeCalls reads the stand-in's purge calls: how many, how many URLs
// each single-file call carried, and the most URLs sent (whatever the
// answer) within any window of one second.
func summarizeCalls(calls []cfstub.Call) cdnFigures {
	var f cdnFigures
	var urls int
	var files []cfstub.Call
	for _, c := range calls {
		f.calls++
		if c.Kind != cfstub.KindFiles {
			continue
		}
		urls += len(c.Items)
		f.urlsMax = max(f.urlsMax, len(c.Items))
		files = append(files, c)
	}
	if len(files) > 0 {
		f.urlsMean = float64(urls) / float64(len(files))
	}
	f.maxURLsInSec = maxInWindow(files, time.Second)
	return f
}

// maxInWindow returns the most URLs carried by calls arriving within any
// half-open window [t, t+w); calls must be sorted by arrival, as
// cfstub.Server.Calls returns them. Windows start at a call, where the
// maximum is always found.
func maxInWindow(calls []cfstub.Call, w time.Duration) int {
	best, sum, lo := 0, 0, 0
	for hi := range calls {
		sum += len(calls[hi].Items)
		for calls[hi].At.Sub(calls[lo].At) >= w {
			sum -= len(calls[lo].Items)
			lo++
		}
		best = max(best, sum)
	}
	return best
}
