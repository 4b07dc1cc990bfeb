package config

import (
	"fmt"
	"slices"
	"strings"
)

// CDNFastly is Fastly's name in cdn_order.
const CDNFastly = "fastly"

// Defaults of Fastly's purging. Fastly does not publish a rate limit for
// purges by URL or surrogate key (the 1,000 requests/hour API limit covers
// the other endpoints), so edgepurge's own budget is a guard, not a quota:
// 500 URL purges/s (burst 1,000) keeps a storm from tying up the origin's
// whole refill at once; 50 key calls/s (burst 100) is 12,800 surrogate
// keys/s at 256 per call. purge_all, which the hourly API limit does
// count, spends a bucket of its own (purge/fastly.PurgeAllPerHour).
const (
	DefaultFastlyBaseURL          = "https://api.fastly.com"
	DefaultFastlyURLsPerSecond    = 500
	DefaultFastlyURLBurst         = 1000
	DefaultFastlyCallsPerSecond   = 50
	DefaultFastlyCallBurst        = 100
	DefaultFastlyMaxKeysPerCall   = 256
	DefaultFastlyMaxInflightCalls = 8
)

// Fastly is the Fastly CDN: one Fastly service per zone.
type Fastly struct {
	// APIToken is a Fastly API token with purge_select and purge_all
	// scopes (FASTLY_API_TOKEN); empty turns Fastly off.
	APIToken Secret `yaml:"api_token"`
	// ServiceID is the default service (FASTLY_SERVICE_ID): the one of a
	// page whose zone Services does not name.
	ServiceID string `yaml:"service_id"`
	// Services maps a page's zone (pages.<id>.zone, the registry's zone,
	// or cloudflare.zone_id) to its Fastly service ID.
	Services map[string]string `yaml:"services"`
	// BaseURL is the API's base (FASTLY_BASE_URL, for a stand-in).
	BaseURL string `yaml:"base_url"`
	// SoftPurge marks purged objects stale instead of evicting them, so
	// stale-while-revalidate spares the origin in a storm; a page rule's
	// soft_purge overrides it.
	SoftPurge bool `yaml:"soft_purge"`
	// MaxInflightCalls is how many calls may be in flight per service and
	// kind; default 8.
	MaxInflightCalls int `yaml:"max_inflight_calls"`
	// RateLimit is edgepurge's own budget for Fastly, shared through Redis.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of Fastly.
	Breaker Breaker `yaml:"breaker"`
}

// Enabled reports whether Fastly purging is configured.
func (f Fastly) Enabled() bool { return f.APIToken != "" }

// ServiceIDs are the configured services (service_id and the values of
// services), sorted, once each.
func (f Fastly) ServiceIDs() []string {
	var out []string
	if f.ServiceID != "" {
		out = append(out, f.ServiceID)
	}
	for _, s := range f.Services {
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Service is the Fastly service of zone: Services[zone], else ServiceID.
func (f Fastly) Service(zone string) string {
	if s, ok := f.Services[zone]; ok {
		return s
	}
	return f.ServiceID
}

func applyFastlyEnv(cfg *Config, getenv Getenv) {
	if v := strings.TrimSpace(getenv("FASTLY_API_TOKEN")); v != "" {
		cfg.Fastly.APIToken = Secret(v)
	}
	if v := strings.TrimSpace(getenv("FASTLY_SERVICE_ID")); v != "" {
		cfg.Fastly.ServiceID = v
	}
	if v := strings.TrimSpace(getenv("FASTLY_BASE_URL")); v != "" {
		cfg.Fastly.BaseURL = v
	}
}

func (c *Config) setFastlyDefaults() {
	f := &c.Fastly
	if f.BaseURL == "" {
		f.BaseURL = DefaultFastlyBaseURL
	}
	if f.MaxInflightCalls == 0 {
		f.MaxInflightCalls = DefaultFastlyMaxInflightCalls
	}
	rl := &f.RateLimit
	if rl.URLsPerSecond == 0 {
		rl.URLsPerSecond = DefaultFastlyURLsPerSecond
	}
	if rl.URLBurst == 0 {
		rl.URLBurst = DefaultFastlyURLBurst
	}
	if rl.CallsPerSecond == 0 {
		rl.CallsPerSecond = DefaultFastlyCallsPerSecond
	}
	if rl.CallBurst == 0 {
		rl.CallBurst = DefaultFastlyCallBurst
	}
	if rl.Account == "" {
		rl.Account = "default"
	}
	f.Breaker.setDefaults()
}

// validateFastly checks Fastly's settings, when it is on.
func (c *Config) validateFastly() []error {
	f := c.Fastly
	if !f.Enabled() {
		return nil
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.ServiceID == "" && len(f.Services) == 0 {
		add("fastly: no service: set fastly.service_id (FASTLY_SERVICE_ID) or fastly.services")
	}
	for zone, s := range f.Services {
		if !ValidZone(s) {
			add("fastly.services[%q]=%q: a service ID is 1 to 64 letters, digits, '-' or '_'", zone, s)
		}
	}
	if f.ServiceID != "" && !ValidZone(f.ServiceID) {
		add("fastly.service_id=%q: a service ID is 1 to 64 letters, digits, '-' or '_'", f.ServiceID)
	}
	if err := checkBaseURL(f.BaseURL); err != nil {
		add("fastly.base_url: %v", err)
	}
	if f.MaxInflightCalls < 1 {
		add("fastly.max_inflight_calls=%d: must be positive", f.MaxInflightCalls)
	}
	if f.RateLimit.URLsPerSecond < 0 || f.RateLimit.CallsPerSecond < 0 || f.RateLimit.URLBurst < 0 || f.RateLimit.CallBurst < 0 {
		add("fastly.rate_limit: rates and bursts must not be negative")
	}
	errs = append(errs, f.Breaker.validate("fastly")...)
	check := func(name string, r *PageRule) {
		if r != nil && r.Cover != nil && r.Cover.Hosts {
			add("%s.cover.hosts: Fastly cannot purge by hostname; cover the page with a surrogate key (cover.tags)", name)
		}
	}
	check("defaults", c.Defaults)
	for id, p := range c.Pages {
		check("pages."+id, &p)
	}
	return errs
}

// FastlyRateLimitPrefix is the Redis prefix of Fastly's shared budget of
// account; apart from Cloudflare's, since they are different limits.
func FastlyRateLimitPrefix(account string) string {
	if account == "" {
		account = "default"
	}
	return "edgepurge:ratelimit:fastly:" + account + ":"
}
