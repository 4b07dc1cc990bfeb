package ratelimit

import (
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// Plans are an account's budgets when its zones are on different plans:
// Cloudflare keeps the purge buckets per account and plan, so a Free
// zone's calls do not spend a Pro zone's budget, nor does its 429 pause
// it. Each plan's buckets live in Redis under their own prefix,
// "<prefix><plan>:". It is safe for concurrent use; its map is not changed
// after NewPlans.
type Plans struct {
	byPlan map[string]*Limiter
	planOf map[string]string
	dflt   string
}

// PlanConfig configures Plans.
type PlanConfig struct {
	// Prefix is the account's Redis prefix, e.g.
	// "edgepurge:ratelimit:ACCOUNT:"; each plan adds "<plan>:".
	Prefix string
	// Limits are each plan's limits; Default must be among them.
	Limits map[string]Limits
	// Default is the plan of the zones Zones does not name.
	Default string
	// Zones maps a zone to its plan.
	Zones map[string]string
}

// NewPlans returns one Limiter per plan, on rdb (which may be nil); setup,
// when not nil, is called with each plan's Limiter to set its hooks.
func NewPlans(rdb redis.UniversalClient, cfg PlanConfig, log *slog.Logger, setup func(plan string, l *Limiter)) (*Plans, error) {
	if _, ok := cfg.Limits[cfg.Default]; !ok {
		return nil, fmt.Errorf("rate-limit plans: no limits for the default plan %q", cfg.Default)
	}
	p := &Plans{byPlan: map[string]*Limiter{}, planOf: map[string]string{}, dflt: cfg.Default}
	for zone, plan := range cfg.Zones {
		if _, ok := cfg.Limits[plan]; !ok {
			return nil, fmt.Errorf("rate-limit plans: zone %s: no limits for plan %q", zone, plan)
		}
		p.planOf[zone] = plan
	}
	for plan, limits := range cfg.Limits {
		l := New(rdb, PlanPrefix(cfg.Prefix, plan), limits, log.With("plan", plan))
		if setup != nil {
			setup(plan, l)
		}
		p.byPlan[plan] = l
	}
	return p, nil
}

// PlanPrefix is the Redis prefix of one plan's buckets in an account's
// prefix.
func PlanPrefix(prefix, plan string) string { return prefix + plan + ":" }

// Plan is zone's plan.
func (p *Plans) Plan(zone string) string {
	if plan, ok := p.planOf[zone]; ok {
		return plan
	}
	return p.dflt
}

// For is the budget zone spends: its plan's.
func (p *Plans) For(zone string) *Limiter { return p.byPlan[p.Plan(zone)] }
