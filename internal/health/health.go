// Package health keeps the readiness state of the process: the result of
// each probe (Redis PING, CDN token verification, ...) and whether the
// process is draining. Probes run in the background, so a readiness request
// does no I/O and cannot pile load on a struggling dependency.
package health

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Probe is one readiness check run periodically.
type Probe struct {
	// Name names the check in /readyz and metrics.
	Name string
	// Check returns nil when the dependency can do its work.
	Check func(ctx context.Context) error
	// Interval between runs; Timeout bounds one run.
	Interval, Timeout time.Duration
	// MaxAge is how old the last success may be before the check fails even
	// if no run failed (a stuck probe is a failing probe); 0 means forever.
	MaxAge time.Duration
}

// Status is the state of one check.
type Status struct {
	Name        string    `json:"name"`
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastRun     time.Time `json:"last_run,omitzero"`
}

type state struct {
	maxAge      time.Duration
	err         string
	ran         bool
	lastSuccess time.Time
	lastRun     time.Time
}

// Checker is the readiness state. It is safe for concurrent use.
type Checker struct {
	mu       sync.Mutex
	checks   map[string]*state
	draining atomic.Bool
	now      func() time.Time
	onChange func(name string, ok bool)
}

// New returns a Checker. onChange, if not nil, is told each check's result
// after every run (for a readiness metric).
func New(onChange func(name string, ok bool)) *Checker {
	return &Checker{checks: map[string]*state{}, now: time.Now, onChange: onChange}
}

// Set records the result of check name; maxAge as in Probe.
func (c *Checker) Set(name string, maxAge time.Duration, err error) {
	c.mu.Lock()
	s, ok := c.checks[name]
	if !ok {
		s = &state{}
		c.checks[name] = s
	}
	now := c.now()
	s.maxAge, s.ran, s.lastRun = maxAge, true, now
	if err != nil {
		s.err = err.Error()
	} else {
		s.err, s.lastSuccess = "", now
	}
	c.mu.Unlock()
	if c.onChange != nil {
		c.onChange(name, err == nil)
	}
}

// Register declares a check that has not run yet, so that it counts as
// failing until it does.
func (c *Checker) Register(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.checks[name]; !ok {
		c.checks[name] = &state{}
	}
}

// Run runs probe until ctx ends, first at once.
func (c *Checker) Run(ctx context.Context, p Probe) {
	c.Register(p.Name)
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, p.Timeout)
		err := p.Check(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.Set(p.Name, p.MaxAge, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain marks the process as draining: readiness fails from now on.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Report returns whether the process is ready and every check's status,
// sorted by name, with "draining" first when it fails.
func (c *Checker) Report() (bool, []Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	ready := true
	out := make([]Status, 0, len(c.checks)+1)
	if c.draining.Load() {
		ready = false
		out = append(out, Status{Name: "draining", OK: false, Error: "shutting down"})
	}
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.checks[n]
		st := Status{Name: n, LastSuccess: s.lastSuccess, LastRun: s.lastRun, OK: s.ran && s.err == ""}
		switch {
		case !s.ran:
			st.Error = "not checked yet"
		case s.err != "":
			st.Error = s.err
		case s.maxAge > 0 && now.Sub(s.lastSuccess) > s.maxAge:
			st.OK = false
			st.Error = "last success too old: " + now.Sub(s.lastSuccess).Round(time.Millisecond).String() + " ago"
		}
		if !st.OK {
			ready = false
		}
		out = append(out, st)
	}
	return ready, out
}
