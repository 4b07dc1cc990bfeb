package config

import (
	"fmt"
	"slices"
)

// CloudflarePlans are the plans whose purge limits edgepurge knows, as in
// cloudflare.plan and cloudflare.zones.<id>.plan.
var CloudflarePlans = []string{"free", "pro", "business", "enterprise"}

// CloudflareZone is one zone's own settings (cloudflare.zones.<id>).
type CloudflareZone struct {
	// Plan is the zone's plan: free, pro, business or enterprise; empty
	// means cloudflare.plan.
	Plan string `yaml:"plan"`
}

// PlanOf is zone's plan: cloudflare.zones.<zone>.plan, else cloudflare.plan.
func (c Cloudflare) PlanOf(zone string) string {
	if z, ok := c.Zones[zone]; ok && z.Plan != "" {
		return z.Plan
	}
	return c.Plan
}

// ZonePlans maps each zone of cloudflare.zones with a plan to it.
func (c Cloudflare) ZonePlans() map[string]string {
	out := make(map[string]string, len(c.Zones))
	for zone := range c.Zones {
		out[zone] = c.PlanOf(zone)
	}
	return out
}

// knownPlan reports whether plan is one of CloudflarePlans.
func knownPlan(plan string) bool { return slices.Contains(CloudflarePlans, plan) }

// validatePlans checks cloudflare.plan and each cloudflare.zones entry.
func (c Cloudflare) validatePlans() []error {
	var errs []error
	if !knownPlan(c.Plan) {
		errs = append(errs, fmt.Errorf("cloudflare.plan=%q: must be free, pro, business or enterprise", c.Plan))
	}
	for zone, z := range c.Zones {
		if !ValidZone(zone) {
			errs = append(errs, fmt.Errorf("cloudflare.zones[%q]: %s", zone, ZoneRule))
		}
		if z.Plan != "" && !knownPlan(z.Plan) {
			errs = append(errs, fmt.Errorf("cloudflare.zones[%q].plan=%q: must be free, pro, business or enterprise", zone, z.Plan))
		}
	}
	return errs
}

// CloudflareRateLimitPrefix is the Redis prefix of a Cloudflare account's
// shared budgets; each plan's buckets are under "<prefix><plan>:".
func CloudflareRateLimitPrefix(account string) string {
	if account == "" {
		account = "default"
	}
	return "edgepurge:ratelimit:" + account + ":"
}
