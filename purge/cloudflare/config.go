package cloudflare

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

// Defaults of Config.
const (
	// DefaultBaseURL is Cloudflare's v4 API.
	DefaultBaseURL = "https://api.cloudflare.com/client/v4/"
	// DefaultMaxURLsPerCall is the single-file purge limit of one call on
	// every plan (Enterprise allows 500:
	// https://developers.cloudflare.com/cache/how-to/purge-cache/).
	DefaultMaxURLsPerCall = 100
	// DefaultMaxItemsPerCall is the tag, host and prefix limit of one call.
	DefaultMaxItemsPerCall = 100
	// DefaultMaxInflightCalls is set so that the rate budget, not the call
	// slots, bounds a zone's purges: one status page's event is about 20
	// URLs, and at 4 slots a zone on the pro budget (1,350 URLs/s after
	// the headroom) could spend it only while the API answered within
	// about 60 ms.
	DefaultMaxInflightCalls = 8
	// DefaultPlan is the plan of the zones no setting names.
	DefaultPlan = "pro"
	// DefaultEscalationAfter is the URL queue's projected wait past which
	// a page with a cover is purged by it.
	DefaultEscalationAfter = time.Second
)

// Plans are the plans whose purge limits edgepurge knows (ratelimit.Preset).
var Plans = []string{"free", "pro", "business", "enterprise"}

// Config is the cloudflare section of the config file, and what New
// takes: the API, the zones, and how edgepurge spends their purge budget.
type Config struct {
	// APIToken is the bearer token; purging needs the zones' "Zone → Cache
	// Purge → Purge" permission, and CheckZone "Zone → Zone → Read".
	APIToken purge.Secret `yaml:"api_token"`
	// AccountID, when set, says the token is account-owned by that account
	// (CLOUDFLARE_ACCOUNT_ID): CheckToken verifies it at
	// /accounts/{account_id}/tokens/verify instead of the user tokens'
	// /user/tokens/verify, which refuses account-owned tokens.
	AccountID string `yaml:"account_id"`
	// ZoneID is the default zone, used by pages that do not name their own.
	ZoneID string `yaml:"zone_id"`
	// BaseURL points the SDK at another API (a stand-in); empty for
	// DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// MaxURLsPerCall is the most URLs one call carries; default
	// DefaultMaxURLsPerCall.
	MaxURLsPerCall int `yaml:"max_urls_per_call"`
	// MaxInflightCalls is how many purge calls may be in flight per zone
	// and kind; default DefaultMaxInflightCalls.
	MaxInflightCalls int `yaml:"max_inflight_calls"`
	// Plan picks the rate-limit preset of the zones Zones does not name:
	// one of Plans (default DefaultPlan; CLOUDFLARE_PLAN). RateLimit's
	// explicit limits override it.
	Plan string `yaml:"plan"`
	// Zones gives zones settings of their own: their plan. Cloudflare's
	// purge buckets are per account and plan, so each plan gets buckets of
	// its own and a 429 pauses only its plan's.
	Zones map[string]Zone `yaml:"zones"`
	// RateLimit overrides the purge rate limits of Plan (the default
	// plan); the plans Zones names keep their presets.
	RateLimit ratelimit.Config `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of Cloudflare.
	Breaker breaker.Config `yaml:"breaker"`
	// Escalation purges waiting pages by their cover instead of their URLs
	// when the URL budget is the bottleneck.
	Escalation Escalation `yaml:"escalation"`

	// MaxItemsPerCall is the most tags, hosts or prefixes one call
	// carries; default DefaultMaxItemsPerCall (a stand-in may take fewer).
	MaxItemsPerCall int `yaml:"-"`
	// HTTPClient, when set, makes the calls; default http.DefaultClient.
	HTTPClient *http.Client `yaml:"-" json:"-"`
}

// Zone is one zone's own settings (cloudflare.zones.<id>).
type Zone struct {
	// Plan is the zone's plan, one of Plans; empty means Config.Plan.
	Plan string `yaml:"plan"`
}

// Escalation says when the coalescing queue purges a waiting page by its
// cover (pages.<id>.cover) instead of its URLs: when the URLs waiting for
// the URL budget would take longer than After to go out, and the covers
// waiting for the tag/host budget would not take as long.
type Escalation struct {
	// Disabled keeps every page on its URLs.
	Disabled bool `yaml:"disabled"`
	// After is the URL queue's projected wait past which pages escalate;
	// default DefaultEscalationAfter.
	After time.Duration `yaml:"after"`
}

// Enabled reports whether Cloudflare purging is configured.
func (c Config) Enabled() bool { return c.APIToken != "" }

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() {
	c.MaxURLsPerCall = cmp.Or(c.MaxURLsPerCall, DefaultMaxURLsPerCall)
	c.MaxInflightCalls = cmp.Or(c.MaxInflightCalls, DefaultMaxInflightCalls)
	c.Plan = cmp.Or(c.Plan, DefaultPlan)
	c.RateLimit.Account = cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount)
	c.Escalation.After = cmp.Or(c.Escalation.After, DefaultEscalationAfter)
	c.Breaker.SetDefaults()
}

// Validate reports every problem of the section's own knobs.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	errs = append(errs, c.Breaker.Validate("cloudflare")...)
	if c.ZoneID != "" && !purge.ValidZone(c.ZoneID) {
		add("cloudflare.zone_id=%q: %s", c.ZoneID, purge.ZoneRule)
	}
	if c.Escalation.After < 0 {
		add("cloudflare.escalation.after=%s: must not be negative", c.Escalation.After)
	}
	if c.AccountID != "" && !purge.ValidZone(c.AccountID) {
		add("cloudflare.account_id=%q: an account id is 32 hex digits (dashboard → Account home → Account ID)", c.AccountID)
	}
	if c.MaxURLsPerCall < 1 || c.MaxURLsPerCall > 500 {
		add("cloudflare.max_urls_per_call=%d: must be 1..500", c.MaxURLsPerCall)
	}
	if !slices.Contains(Plans, c.Plan) {
		add("cloudflare.plan=%q: must be free, pro, business or enterprise", c.Plan)
	}
	for zone, z := range c.Zones {
		if !purge.ValidZone(zone) {
			add("cloudflare.zones[%q]: %s", zone, purge.ZoneRule)
		}
		if z.Plan != "" && !slices.Contains(Plans, z.Plan) {
			add("cloudflare.zones[%q].plan=%q: must be free, pro, business or enterprise", zone, z.Plan)
		}
	}
	if c.MaxInflightCalls < 1 {
		add("cloudflare.max_inflight_calls=%d: must be positive", c.MaxInflightCalls)
	}
	return errs
}

// PlanOf is zone's plan: cloudflare.zones.<zone>.plan, else cloudflare.plan.
func (c Config) PlanOf(zone string) string {
	if z, ok := c.Zones[zone]; ok && z.Plan != "" {
		return z.Plan
	}
	return c.Plan
}

// ZonePlans maps each zone of cloudflare.zones to its plan.
func (c Config) ZonePlans() map[string]string {
	out := make(map[string]string, len(c.Zones))
	for zone := range c.Zones {
		out[zone] = c.PlanOf(zone)
	}
	return out
}

// RateLimitPrefix is the Redis prefix of the account's shared budgets;
// each plan's buckets are under "<prefix><plan>:".
func (c Config) RateLimitPrefix() string {
	return "edgepurge:ratelimit:" + cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount) + ":"
}

// Budgets are the purge limits of each plan in use, by plan, with the
// default headroom: Plan's preset overridden by RateLimit's explicit
// values, and the preset of each other plan Zones names.
func (c Config) Budgets() (map[string]ratelimit.Limits, error) {
	l, err := ratelimit.Preset(c.Plan)
	if err != nil {
		return nil, err
	}
	out := map[string]ratelimit.Limits{c.Plan: c.RateLimit.Over(l).Scaled(ratelimit.DefaultHeadroom)}
	for _, plan := range c.ZonePlans() {
		if _, ok := out[plan]; ok {
			continue
		}
		if l, err = ratelimit.Preset(plan); err != nil {
			return nil, err
		}
		out[plan] = l.Scaled(ratelimit.DefaultHeadroom)
	}
	return out, nil
}
