package standin

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"
)

// Record adds a call to the log, counting it as throttled when it was
// answered 429.
func (c *Core[C, F, K]) Record(call C) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.Status(call) == http.StatusTooManyRequests {
		c.throttled++
	}
	c.calls = append(c.calls, call)
}

// Calls returns every call received so far, in order of arrival.
func (c *Core[C, F, K]) Calls() []C {
	c.mu.Lock()
	calls := slices.Clone(c.calls)
	c.mu.Unlock()
	sort.SliceStable(calls, func(i, j int) bool { return c.cfg.Arrived(calls[i]).Before(c.cfg.Arrived(calls[j])) })
	return calls
}

// CallsWhere returns the calls received so far that keep selects, in order
// of arrival; nil when there are none.
func (c *Core[C, F, K]) CallsWhere(keep func(C) bool) []C {
	var out []C
	for _, call := range c.Calls() {
		if keep(call) {
			out = append(out, call)
		}
	}
	return out
}

// Throttled is how many calls were answered 429.
func (c *Core[C, F, K]) Throttled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttled
}

// MarkPurged notes that key's items were purged at t.
func (c *Core[C, F, K]) MarkPurged(key K, items []string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byItem := c.purged[key]
	if byItem == nil {
		byItem = make(map[string]time.Time)
		c.purged[key] = byItem
	}
	for _, it := range items {
		byItem[it] = t
	}
}

// Purged returns key's purged items with when each was last purged; nil
// when none was.
func (c *Core[C, F, K]) Purged(key K) map[string]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.purged[key])
}

// Reset forgets every call and purge, undoes SetFailure, SetLatency and
// Hang, restarts PeakInFlight from the calls in flight, and runs also, if
// not nil, under the same lock: the stand-in's own reset, such as
// refilling its rate buckets.
func (c *Core[C, F, K]) Reset(also func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = c.cfg.Latency
	if c.hang != nil {
		close(c.hang)
		c.hang = nil
	}
	c.failure = nil
	c.calls = nil
	c.purged = make(map[K]map[string]time.Time)
	c.throttled = 0
	c.peak = c.inFlight
	if also != nil {
		also()
	}
}
