// Package breaker is a circuit breaker around a CDN purger. When the CDN
// keeps failing, it stops sending purges there (they fail fast, retryable,
// so the caller's journal or retry takes over), waits a cool-down, then
// lets one purge through as a probe and closes again when it succeeds.
//
// The breaker sits outside the retries and the coalescing queue, so what it
// counts is events: it opens after Failures consecutive purges whose CDN
// part failed with a transient error after every retry their deadline
// allowed — the CDN has been failing for at least a whole purge deadline.
// Permanent refusals (a bad zone, a bad token) show the CDN answering and
// count as successes; purges that were never sent (the rate budget was
// spent, a cancelled request) count as nothing.
package breaker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// State is the breaker's state; the values are those of the state gauge.
type State int

// States.
const (
	// Closed: purges go through; failures are counted.
	Closed State = 0
	// HalfOpen: the cool-down is over; the next purge is a probe.
	HalfOpen State = 1
	// Open: purges fail fast until the cool-down ends.
	Open State = 2
)

// String names the state in logs and readiness.
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	default:
		return fmt.Sprintf("state(%d)", int(s))
	}
}

// Defaults of Config.
const (
	DefaultFailures = 5
	DefaultCooldown = 10 * time.Second
)

// Config configures a Breaker; its first fields are a backend's
// <backend>.breaker keys.
type Config struct {
	// Disabled turns the breaker off: every purge goes to the CDN.
	Disabled bool `yaml:"disabled"`
	// Failures is how many consecutive failed purges open the breaker;
	// default DefaultFailures.
	Failures int `yaml:"failures"`
	// Cooldown is how long it stays open before a probe is let through;
	// default DefaultCooldown.
	Cooldown time.Duration `yaml:"cooldown"`
	// Next is the guarded purger.
	Next purge.Purger `yaml:"-" json:"-"`
	// OnChange, when set, is told every transition (for metrics, logs and
	// readiness), in order. It is called with the breaker's lock held, so
	// it must not call the Breaker.
	OnChange func(from, to State) `yaml:"-" json:"-"`
}

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() {
	c.Failures = cmp.Or(c.Failures, DefaultFailures)
	c.Cooldown = cmp.Or(c.Cooldown, DefaultCooldown)
}

// Validate checks the knobs of the breaker of backend, the key's prefix.
func (c Config) Validate(backend string) []error {
	var errs []error
	if c.Failures < 1 {
		errs = append(errs, fmt.Errorf("%s.breaker.failures=%d: must be positive", backend, c.Failures))
	}
	if c.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("%s.breaker.cooldown=%s: must be positive", backend, c.Cooldown))
	}
	return errs
}

// Breaker is a purge.Purger that guards Next. It is safe for concurrent use.
type Breaker struct {
	cfg Config

	mu       sync.Mutex
	state    State
	failures int  // consecutive, while closed
	probing  bool // a probe is in flight, while half-open
	openedAt time.Time
	timer    *time.Timer
}

var _ purge.Purger = (*Breaker)(nil)

// New returns a closed Breaker.
func New(cfg Config) *Breaker {
	cfg.SetDefaults()
	return &Breaker{cfg: cfg}
}

// Name is Next's name.
func (b *Breaker) Name() string { return b.cfg.Next.Name() }

// State is the current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// refusal is the fast failure of a purge the breaker did not let through:
// retryable, and unsent (the CDN never saw it), with when to try again.
func (b *Breaker) refusal(why string, retryIn time.Duration) error {
	return &purge.Error{
		Op:         "purge " + b.Name(),
		Message:    "circuit open: " + why,
		Retryable:  true,
		Unsent:     true,
		RetryAfter: max(retryIn, time.Second),
	}
}

// Err is nil while purges go through (closed, or half-open), else why not:
// the readiness check of the breaker.
func (b *Breaker) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != Open {
		return nil
	}
	return fmt.Errorf("circuit open since %s: the CDN kept failing (%d failed purges in a row); probing again in %s",
		b.openedAt.UTC().Format(time.RFC3339), b.cfg.Failures, time.Until(b.openedAt.Add(b.cfg.Cooldown)).Round(time.Second))
}

// Purge sends req to Next unless the breaker is open, or half-open with a
// probe already in flight; a refused purge fails at once with a retryable,
// unsent *purge.Error ("circuit open") carrying when to try again.
func (b *Breaker) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	probe, err := b.admit()
	if err != nil {
		return purge.Result{}, err
	}
	res, err := b.cfg.Next.Purge(ctx, req)
	b.record(ctx, probe, err)
	return res, err
}

// admit decides whether a purge may go through, and whether it is the probe.
func (b *Breaker) admit() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Open:
		left := time.Until(b.openedAt.Add(b.cfg.Cooldown))
		return false, b.refusal(fmt.Sprintf("%d consecutive failed purges; probing again in %s", b.cfg.Failures, left.Round(time.Millisecond)), left)
	case HalfOpen:
		if b.probing {
			return false, b.refusal("a probe purge is in flight", time.Second)
		}
		b.probing = true
		return true, nil
	default:
		return false, nil
	}
}

// outcome classifies a purge's result for the breaker.
type outcome int

const (
	neutral outcome = iota
	success
	failure
)

func classify(ctx context.Context, err error) outcome {
	if err == nil {
		return success
	}
	pe := purge.AsError(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return neutral // the caller left; says nothing about the CDN
	case pe == nil:
		return neutral
	case !pe.Retryable:
		return success // a permanent refusal: the CDN answers
	case pe.Unsent:
		return neutral // never reached the CDN
	case pe.Pending:
		return success // the CDN accepted it and is working on it
	default:
		return failure
	}
}

// record updates the state with a purge's outcome.
func (b *Breaker) record(ctx context.Context, probe bool, err error) {
	o := classify(ctx, err)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case probe:
		b.probing = false
		switch o {
		case success:
			b.setLocked(Closed)
		case failure:
			b.openLocked()
		}
	case b.state == Closed:
		switch o {
		case success:
			b.failures = 0
		case failure:
			b.failures++
			if b.failures >= b.cfg.Failures {
				b.openLocked()
			}
		}
	}
}

// openLocked opens the breaker and schedules the end of the cool-down.
// Called with b.mu held.
func (b *Breaker) openLocked() {
	b.setLocked(Open)
	b.openedAt = time.Now()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.timer = time.AfterFunc(b.cfg.Cooldown, b.halfOpen)
}

// halfOpen ends the cool-down.
func (b *Breaker) halfOpen() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && !time.Now().Before(b.openedAt.Add(b.cfg.Cooldown)) {
		b.setLocked(HalfOpen)
	}
}

// setLocked changes the state. Called with b.mu held.
func (b *Breaker) setLocked(s State) {
	from := b.state
	b.failures = 0
	b.probing = false
	if s == from {
		return
	}
	b.state = s
	if b.cfg.OnChange != nil {
		b.cfg.OnChange(from, s)
	}
}
