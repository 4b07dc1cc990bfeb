// Package health keeps the readiness state of the process: the result of
// each probe, the record of every purge target (Target: Redis, each CDN
// zone, service or node, fed by every call to it) and whether the process
// is draining. Probes run in the background, so a readiness request does
// no I/O and cannot pile load on a struggling dependency.
//
// A check is the instance's own (its config loaded, not draining) or
// shared with every other instance (the purge targets, the canary). An own check that fails makes the instance
// unready at once. A shared one does not, unless it has failed for longer
// than the shared grace: when Redis or the CDN blips, every instance sees
// it at once, and readiness tied to it would take the whole fleet out of
// the load balancer, so that hooks would get no answer at all instead of
// an honest 202 or 503. Shared failures are reported (Report, the metrics)
// whatever the grace.
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
	// Shared says the check is of a dependency every instance shares (see
	// the package comment).
	Shared bool
}

// Scopes of a check.
const (
	ScopeInstance = "instance"
	ScopeShared   = "shared"
)

// Status is the state of one check.
type Status struct {
	Name string `json:"name"`
	// Scope is instance or shared.
	Scope       string    `json:"scope"`
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastRun     time.Time `json:"last_run,omitzero"`
	// FailingSince is when the check started failing; zero while it passes.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Gating says the failure makes the instance unready: an own check,
	// or a shared one failing for longer than the shared grace.
	Gating bool `json:"gating,omitempty"`
}

type state struct {
	maxAge       time.Duration
	shared       bool
	err          string
	ran          bool
	lastSuccess  time.Time
	lastRun      time.Time
	failingSince time.Time
}

// Checker is the readiness state. It is safe for concurrent use.
type Checker struct {
	mu       sync.Mutex
	checks   map[string]*state
	draining atomic.Bool
	now      func() time.Time
	onChange func(name string, ok bool)
	// sharedGrace is how long a shared check may fail before the instance
	// is unready; 0 means never.
	sharedGrace time.Duration
	// targets are the purge targets' checks, in the order tracked; window
	// is how long a target may fail before its check does.
	targets []*Target
	window  time.Duration
}

// DefaultWindow is how long a purge target may fail every call before its
// check fails, when SetWindow was not called.
const DefaultWindow = 30 * time.Second

// SetWindow sets how long a purge target may fail every call before its
// check fails (see Target).
func (c *Checker) SetWindow(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.window = d
}

// Window is how long a purge target may fail every call before its check
// fails.
func (c *Checker) Window() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.window
}

// Track returns the Target of backend's target (a zone, service or node;
// "" for Redis), creating its check, shared, on first use. provenByProbe
// says a probe calls it soon (see Target).
func (c *Checker) Track(backend, target string, provenByProbe bool) *Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := CheckName(backend, target)
	for _, t := range c.targets {
		if t.check == name {
			t.provenByProbe = t.provenByProbe || provenByProbe
			return t
		}
	}
	t := &Target{Backend: backend, Name: target, check: name, provenByProbe: provenByProbe, now: c.now}
	c.targets = append(c.targets, t)
	return t
}

// Targets returns every tracked target's status, in the order tracked.
func (c *Checker) Targets() []TargetStatus {
	c.mu.Lock()
	targets, window, now := c.targets, c.window, c.now()
	c.mu.Unlock()
	out := make([]TargetStatus, len(targets))
	for i, t := range targets {
		out[i] = t.status(now, window)
	}
	return out
}

// targetStatus is t's check as a Status; c.mu is held.
func (c *Checker) targetStatus(t *Target, now time.Time) Status {
	ts := t.status(now, c.window)
	st := Status{Name: t.check, Scope: ScopeShared, OK: true, LastSuccess: ts.LastSuccess, LastRun: later(ts.LastSuccess, ts.LastFailure)}
	switch ts.State {
	case StateUnknown:
		if t.provenByProbe {
			st.OK, st.Error = false, "not checked yet"
		}
	case StateDegraded:
		st.Error = "failing for " + now.Sub(ts.FailingSince).Round(time.Second).String() + " (fails after " + c.window.String() + "): " + ts.Error
	case StateFailing:
		st.OK, st.FailingSince = false, ts.FailingSince
		since := "since it started"
		if !ts.LastSuccess.IsZero() {
			since = "for " + now.Sub(ts.LastSuccess).Round(time.Second).String()
		}
		st.Error = "no successful purge " + since + ": " + ts.Error
	}
	return st
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// New returns a Checker. onChange, if not nil, is told each check's result
// after every run (for a readiness metric).
func New(onChange func(name string, ok bool)) *Checker {
	return &Checker{checks: map[string]*state{}, now: time.Now, onChange: onChange, window: DefaultWindow}
}

// SetSharedGrace sets how long a shared check may fail before the instance
// is unready; 0 (the default) means never.
func (c *Checker) SetSharedGrace(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sharedGrace = d
}

// Share marks check name as shared (see the package comment).
func (c *Checker) Share(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state(name).shared = true
}

// state is name's state, created on first use; c.mu is held.
func (c *Checker) state(name string) *state {
	s, ok := c.checks[name]
	if !ok {
		s = &state{}
		c.checks[name] = s
	}
	return s
}

// Set records the result of check name; maxAge as in Probe.
func (c *Checker) Set(name string, maxAge time.Duration, err error) {
	c.mu.Lock()
	s := c.state(name)
	now := c.now()
	s.maxAge, s.ran, s.lastRun = maxAge, true, now
	if err != nil {
		s.err = err.Error()
		if s.failingSince.IsZero() {
			s.failingSince = now
		}
	} else {
		s.err, s.lastSuccess, s.failingSince = "", now, time.Time{}
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
	if p.Shared {
		c.Share(p.Name)
	}
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

// Report returns whether the process is ready and every check's status:
// "draining" first when it fails, then the purge targets in the order
// tracked, then the other checks sorted by name.
func (c *Checker) Report() (bool, []Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	ready := true
	out := make([]Status, 0, len(c.checks)+1)
	if c.draining.Load() {
		ready = false
		out = append(out, Status{Name: "draining", Scope: ScopeInstance, OK: false, Error: "shutting down", Gating: true})
	}
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, t := range c.targets {
		st := c.targetStatus(t, now)
		if !st.OK {
			st.Gating = c.gating(&state{shared: true}, st, now)
			ready = ready && !st.Gating
		}
		out = append(out, st)
	}
	for _, n := range names {
		s := c.checks[n]
		st := Status{Name: n, Scope: ScopeInstance, LastSuccess: s.lastSuccess, LastRun: s.lastRun, OK: s.ran && s.err == "", FailingSince: s.failingSince}
		if s.shared {
			st.Scope = ScopeShared
		}
		switch {
		case !s.ran:
			st.Error = "not checked yet"
		case s.err != "":
			st.Error = s.err
		case s.maxAge > 0 && now.Sub(s.lastSuccess) > s.maxAge:
			st.OK = false
			st.Error = "last success too old: " + now.Sub(s.lastSuccess).Round(time.Millisecond).String() + " ago"
			st.FailingSince = s.lastSuccess.Add(s.maxAge)
		}
		if !st.OK {
			st.Gating = c.gating(s, st, now)
			if st.Gating {
				ready = false
			}
		}
		out = append(out, st)
	}
	return ready, out
}

// gating reports whether a failing check makes the instance unready. A
// shared check that has not run yet does not: the instance's own start is
// not held up by a dependency every instance shares.
func (c *Checker) gating(s *state, st Status, now time.Time) bool {
	if !s.shared {
		return true
	}
	if c.sharedGrace <= 0 || st.FailingSince.IsZero() {
		return false
	}
	return now.Sub(st.FailingSince) > c.sharedGrace
}
