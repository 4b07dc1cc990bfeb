package ratelimit

import "fmt"

// Config is a CDN account's purge budget as the config file sets it
// (<backend>.rate_limit): single-file URLs per second, and
// tag/host/prefix/everything calls per second, each a token bucket shared
// by every instance (through Redis). What it leaves 0 the backend fills in.
type Config struct {
	URLsPerSecond  float64 `yaml:"urls_per_second"`
	URLBurst       int     `yaml:"url_burst"`
	CallsPerSecond float64 `yaml:"calls_per_second"`
	CallBurst      int     `yaml:"call_burst"`
	// Disabled turns edgepurge's own limiting off (the CDN still limits).
	Disabled bool `yaml:"disabled"`
	// Account names the shared bucket in Redis; instances purging for the
	// same account must use the same name. Default "default".
	Account string `yaml:"account"`
}

// DefaultAccount is Config.Account's default.
const DefaultAccount = "default"

// Validate refuses negative rates and bursts; backend is the key's prefix.
func (c Config) Validate(backend string) error {
	if c.URLsPerSecond < 0 || c.CallsPerSecond < 0 || c.URLBurst < 0 || c.CallBurst < 0 {
		return fmt.Errorf("%s.rate_limit: rates and bursts must not be negative", backend)
	}
	return nil
}

// Over is base with the rates and bursts c sets in place of base's.
func (c Config) Over(base Limits) Limits {
	if c.URLsPerSecond > 0 {
		base.URLs = FromPerSecond(c.URLsPerSecond, c.URLBurst)
	} else if c.URLBurst > 0 {
		base.URLs.Burst = c.URLBurst
	}
	if c.CallsPerSecond > 0 {
		base.Calls = FromPerSecond(c.CallsPerSecond, c.CallBurst)
	} else if c.CallBurst > 0 {
		base.Calls.Burst = c.CallBurst
	}
	return base
}
