package app

import (
	"context"
	"slices"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/internal/registry"
	"github.com/edgepurge/edgepurge/internal/server"
)

// PageTrailSuffix follows audit.stream in the key of the page changes'
// audit trail (edgepurge:audit:pages by default): under the audit
// stream's key, so reserved like it.
const PageTrailSuffix = ":pages"

// pagesAPI is the server's PagesAPI: the registry written on the plain
// client (its scripts are not per-event look-ups), read by every instance
// through its look-up cache within registry.cache_ttl.
func (a *App) pagesAPI() server.PagesAPI {
	cfg := a.cfg
	pc := pages.Config{
		Planner: a.Planner,
		Zones:   PageZones(cfg),
		Metrics: metrics.NewPages(a.Metrics.Registry),
		Log:     a.log,
	}
	if !cfg.Registry.Disabled {
		pc.Registry = registry.New(a.redis, cfg.Registry.Prefix)
		pc.OnChange = a.pageCache.Forget
	}
	if !cfg.Audit.Disabled {
		pc.Trail = audit.NewPageTrail(a.redis, cfg.Audit.Stream+PageTrailSuffix, cfg.Audit.MaxLen)
	}
	return pages.New(pc)
}

// PageZones are the zones a page entry may name: the Cloudflare zones the
// config names (cloudflare.zone_id, cloudflare.zones, the pages', the
// default rule's, the canary's) and the zones fastly.services maps to a
// service and cloudfront.zones to a distribution. Sorted, once each.
func PageZones(cfg *config.Config) []string {
	zones := cfg.CloudflareZones()
	if cfg.Cloudflare.Enabled() {
		for z := range cfg.Cloudflare.Zones {
			zones = append(zones, z)
		}
	} else {
		// Without Cloudflare, the zones the config names are not
		// Cloudflare's: only fastly.services maps a zone.
		zones = nil
	}
	if cfg.Fastly.Enabled() {
		for z := range cfg.Fastly.Services {
			zones = append(zones, z)
		}
	}
	if cfg.CloudFront.Enabled() {
		for z := range cfg.CloudFront.Zones {
			zones = append(zones, z)
		}
	}
	slices.Sort(zones)
	return slices.Compact(zones)
}

// LookupOptions implements plan.OptionsRegistry: a registry entry's page
// options (written through the pages API) go to planning with its hosts.
func (l registryLookup) LookupOptions(ctx context.Context, pageID string) ([]string, string, string, bool, error) {
	p, found, err := l.r.Lookup(ctx, pageID)
	return p.Hosts, p.Zone, p.Options, found, err
}
