package fastly

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// Defaults of Config. Fastly does not publish a rate limit for purges by
// URL or surrogate key (the 1,000 requests/hour API limit covers the other
// endpoints), so edgepurge's own budget is a guard, not a quota: 500 URL
// purges/s (burst 1,000) keeps a storm from tying up the origin's whole
// refill at once; 50 key calls/s (burst 100) is 12,800 surrogate keys/s
// at DefaultMaxKeysPerCall. purge_all, which the hourly API limit does count,
// spends a bucket of its own (PurgeAllPerHour).
const (
	// DefaultBaseURL is Fastly's API.
	DefaultBaseURL = "https://api.fastly.com"
	// DefaultMaxInflightCalls bounds the calls in flight per service and
	// kind: URLs are purged one call each, so a page with many URLs needs
	// several at once to finish in a few round trips.
	DefaultMaxInflightCalls = 8
	DefaultURLsPerSecond    = 500
	DefaultURLBurst         = 1000
	DefaultCallsPerSecond   = 50
	DefaultCallBurst        = 100
	// DefaultMaxKeysPerCall is Fastly's limit of surrogate keys in one
	// batch purge.
	DefaultMaxKeysPerCall = 256
	// DefaultTimeout bounds one call of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// PurgeAllPerHour is Fastly's documented limit of non-read API calls per
// user an hour, which purge_all counts against and URL and surrogate-key
// purges do not (https://docs.fastly.com/api/, "Rate limiting"). Other
// tools of the same user spend it too: Fastly-RateLimit-Reset on a 429
// says when it is back.
const PurgeAllPerHour = 1000

// Config is the fastly section of the config file, and what New takes:
// one Fastly service per zone.
type Config struct {
	// APIToken is a Fastly API token (FASTLY_API_TOKEN), sent as the
	// Fastly-Key header; empty turns Fastly off. URL and key purges need
	// the purge_select (or global) scope, Everything needs purge_all (or
	// global).
	APIToken purge.Secret `yaml:"api_token"`
	// ServiceID is the default service (FASTLY_SERVICE_ID): the one of a
	// page whose zone Services does not name.
	ServiceID string `yaml:"service_id"`
	// Services maps a page's zone (pages.<id>.zone, the registry's zone,
	// or cloudflare.zone_id) to its Fastly service ID.
	Services map[string]string `yaml:"services"`
	// BaseURL is the API's base (FASTLY_BASE_URL, for a stand-in); default
	// DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// SoftPurge marks purged URLs and keys stale instead of evicting them,
	// so stale-while-revalidate spares the origin in a storm; a page
	// rule's soft_purge overrides it.
	SoftPurge bool `yaml:"soft_purge"`
	// MaxInflightCalls is how many calls may be in flight per service and
	// kind, and in one Purge; default DefaultMaxInflightCalls.
	MaxInflightCalls int `yaml:"max_inflight_calls"`
	// RateLimit is edgepurge's own budget for Fastly, shared through Redis.
	RateLimit ratelimit.Config `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of Fastly.
	Breaker breaker.Config `yaml:"breaker"`

	// MaxKeysPerCall is the most surrogate keys one call carries; default
	// and maximum DefaultMaxKeysPerCall (a stand-in may take fewer).
	MaxKeysPerCall int `yaml:"-"`
	// HTTPClient, when set, makes the calls. The default has a
	// DefaultTimeout per call, keeps MaxInflightCalls connections alive,
	// and does not follow redirects, which would carry the Fastly-Key
	// header to wherever they point.
	HTTPClient *http.Client `yaml:"-" json:"-"`
}

// Enabled reports whether Fastly purging is configured.
func (c Config) Enabled() bool { return c.APIToken != "" }

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() {
	c.BaseURL = cmp.Or(c.BaseURL, DefaultBaseURL)
	c.MaxInflightCalls = cmp.Or(c.MaxInflightCalls, DefaultMaxInflightCalls)
	rl := &c.RateLimit
	rl.URLsPerSecond = cmp.Or(rl.URLsPerSecond, DefaultURLsPerSecond)
	rl.URLBurst = cmp.Or(rl.URLBurst, DefaultURLBurst)
	rl.CallsPerSecond = cmp.Or(rl.CallsPerSecond, DefaultCallsPerSecond)
	rl.CallBurst = cmp.Or(rl.CallBurst, DefaultCallBurst)
	rl.Account = cmp.Or(rl.Account, ratelimit.DefaultAccount)
	c.Breaker.SetDefaults()
}

// Validate reports every problem of the section's own knobs.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.ServiceID == "" && len(c.Services) == 0 {
		add("fastly: no service: set fastly.service_id (FASTLY_SERVICE_ID) or fastly.services")
	}
	for zone, s := range c.Services {
		if !purge.ValidZone(s) {
			add("fastly.services[%q]=%q: a service ID is 1 to 64 letters, digits, '-' or '_'", zone, s)
		}
	}
	if c.ServiceID != "" && !purge.ValidZone(c.ServiceID) {
		add("fastly.service_id=%q: a service ID is 1 to 64 letters, digits, '-' or '_'", c.ServiceID)
	}
	if err := purge.CheckBaseURL(c.BaseURL); err != nil {
		add("fastly.base_url: %v", err)
	}
	if c.MaxInflightCalls < 1 {
		add("fastly.max_inflight_calls=%d: must be positive", c.MaxInflightCalls)
	}
	if err := c.RateLimit.Validate("fastly"); err != nil {
		errs = append(errs, err)
	}
	return append(errs, c.Breaker.Validate("fastly")...)
}

// ServiceIDs are the configured services (service_id and the values of
// services), sorted, once each.
func (c Config) ServiceIDs() []string {
	var out []string
	if c.ServiceID != "" {
		out = append(out, c.ServiceID)
	}
	for _, s := range c.Services {
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Service is the Fastly service of zone: Services[zone], else ServiceID.
func (c Config) Service(zone string) string {
	if s, ok := c.Services[zone]; ok {
		return s
	}
	return c.ServiceID
}

// RateLimitPrefix is the Redis prefix of the account's shared budget;
// apart from Cloudflare's, since they are different limits.
func (c Config) RateLimitPrefix() string {
	return "edgepurge:ratelimit:fastly:" + cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount) + ":"
}

// Limits are the budget edgepurge spends: rate_limit's URLs and key calls,
// and purge_all apart, at PurgeAllPerHour.
func (c Config) Limits() ratelimit.Limits {
	return ratelimit.Limits{
		URLs:       ratelimit.FromPerSecond(c.RateLimit.URLsPerSecond, c.RateLimit.URLBurst),
		Calls:      ratelimit.FromPerSecond(c.RateLimit.CallsPerSecond, c.RateLimit.CallBurst),
		Everything: ratelimit.Rate{Count: PurgeAllPerHour, Period: time.Hour, Burst: PurgeAllPerHour},
	}
}
