package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// labels are the two label values of a child of a vector.
type labels struct{ a, b string }

// children keeps the children of a two-label vector once resolved, so the
// hot path looks a child up in a plain map instead of hashing its label
// values under the vector's lock (WithLabelValues). The map is copied on
// write: reads take no lock. A child is created on first use, exactly as
// WithLabelValues creates it, so /metrics shows the same series.
type children[T any] struct {
	m  atomic.Pointer[map[labels]T]
	mu sync.Mutex
}

// with returns the child of a and b, made by get on first use.
func (c *children[T]) with(a, b string, get func(a, b string) T) T {
	if m := c.m.Load(); m != nil {
		if t, ok := (*m)[labels{a, b}]; ok {
			return t
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if t, ok := (*old)[labels{a, b}]; ok {
			return t
		}
	}
	t := get(a, b)
	if old != nil && len(*old) >= maxCachedChildren {
		return t // label values beyond any expected set: not kept
	}
	next := make(map[labels]T, 1)
	if old != nil {
		next = make(map[labels]T, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	next[labels{a, b}] = t
	c.m.Store(&next)
	return t
}

// maxCachedChildren bounds each cache (sources × outcomes, backends ×
// statuses are a few dozen).
const maxCachedChildren = 256

// Event is the Events counter of one source and outcome.
func (m *Metrics) Event(source, outcome string) prometheus.Counter {
	return m.events.with(source, outcome, m.eventChild)
}

func (m *Metrics) eventChild(source, outcome string) prometheus.Counter {
	return m.Events.WithLabelValues(source, outcome)
}

func (m *Metrics) backendChild(backend, status string) prometheus.Observer {
	return m.BackendDuration.WithLabelValues(backend, status)
}
