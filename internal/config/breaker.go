package config

import (
	"fmt"
	"time"
)

// Defaults of the circuit breaker.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 10 * time.Second
)

// Breaker configures a backend's circuit breaker: after Failures
// consecutive events whose CDN part failed with a transient error (after
// their retries), purges fail fast for Cooldown; then one purge goes
// through as a probe and closes the breaker when it succeeds.
type Breaker struct {
	// Disabled turns the breaker off: every purge goes to the CDN.
	Disabled bool `yaml:"disabled"`
	// Failures is how many failed purges in a row open it; default 5.
	Failures int `yaml:"failures"`
	// Cooldown is how long it stays open before a probe; default 10 s.
	Cooldown time.Duration `yaml:"cooldown"`
}

func (b *Breaker) setDefaults() {
	if b.Failures == 0 {
		b.Failures = DefaultBreakerFailures
	}
	if b.Cooldown == 0 {
		b.Cooldown = DefaultBreakerCooldown
	}
}

func (b Breaker) validate(name string) []error {
	var errs []error
	if b.Failures < 1 {
		errs = append(errs, fmt.Errorf("%s.breaker.failures=%d: must be positive", name, b.Failures))
	}
	if b.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("%s.breaker.cooldown=%s: must be positive", name, b.Cooldown))
	}
	return errs
}
