// Package config loads edgepurge's configuration: one strict YAML file with
// ${ENV} expansion, then the environment overrides of PRODUCT.md, so the
// common single-zone deployment runs from the environment alone.
package config

import (
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
	"github.com/edgepurge/edgepurge/purge/fastly"
	"github.com/edgepurge/edgepurge/purge/varnish"
)

// Config is the whole configuration of an edgepurge process.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// DryRun plans and answers but purges nothing. It is never implied: a
	// config without a CDN and without dry_run is an error.
	DryRun bool   `yaml:"dry_run"`
	Log    Log    `yaml:"log"`
	Server Server `yaml:"server"`
	// Redis is where the origin's cache and edgepurge's own state live.
	Redis cache.Config `yaml:"redis"`
	// Cloudflare is the zone-purging CDN.
	Cloudflare cloudflare.Config `yaml:"cloudflare"`
	// Varnish is the Varnish cache nodes the owner runs.
	Varnish varnish.Config `yaml:"varnish"`
	// Fastly is the Fastly CDN.
	Fastly fastly.Config `yaml:"fastly"`
	// Akamai is Akamai's Fast Purge.
	Akamai akamai.Config `yaml:"akamai"`
	// CloudFront is Amazon CloudFront; on when it names a distribution.
	CloudFront cloudfront.Config `yaml:"cloudfront"`
	// CDNOrder is the order in which the CDN backends are purged, by name
	// (varnish, fastly, akamai, cloudflare): inner caches first, so an outer
	// cache cannot re-fetch stale content from an inner one. Default:
	// varnish, fastly, akamai, cloudflare. Backends it leaves out follow in the default order.
	CDNOrder []string `yaml:"cdn_order"`
	Auth     Auth     `yaml:"auth"`
	// Defaults is the rule for pages that are neither in Pages nor in the
	// Redis registry; its host templates usually contain {page_id}. Without
	// it, an unknown page is answered 422.
	Defaults *PageRule `yaml:"defaults"`
	// Pages are the pages known by id.
	Pages map[string]PageRule `yaml:"pages"`
	// Registry is the Redis hash registry the core app writes.
	Registry Registry `yaml:"registry"`
	Dedupe   Dedupe   `yaml:"dedupe"`
	Limits   Limits   `yaml:"limits"`
	// Canary is purged periodically to prove readiness; off by default.
	Canary Canary `yaml:"canary"`
	// Audit is the audit trail of purges.
	Audit Audit `yaml:"audit"`
	// Journal is the durable re-drive journal of unfinished purges.
	Journal Journal `yaml:"journal"`
	// Readiness says when a failing shared dependency makes /readyz fail.
	Readiness Readiness `yaml:"readiness"`
	// Probe is the harmless purge that proves every backend target can
	// purge, for readiness and edgepurge check; on by default.
	Probe Probe `yaml:"probe"`
	// Tracing is OpenTelemetry tracing; off by default.
	Tracing Tracing `yaml:"tracing"`
}

// Probe configures the probe purges: every Interval, each instance purges
// a URL and a tag that no page serves from every Cloudflare zone, Fastly
// service and Varnish node (and unlinks a key of its own in Redis),
// through the backend's real client, breaker and shared rate budget, so
// that an idle instance still proves it can purge. It costs at most one
// URL call and one tag call per target per interval; on the Cloudflare
// free plan (tag purges 5 a minute per account) only the URL is purged.
type Probe struct {
	// Disabled turns the probes off: targets are then proven by events
	// alone, and edgepurge check reads metadata only.
	Disabled bool `yaml:"disabled"`
	// Interval between probes; default 30 s.
	Interval time.Duration `yaml:"interval"`
	// Path is the probe URL's path, under the first host of a page of the
	// target's zone (or the default rule's, rendered for the page id
	// "edgepurge-probe"); default /.well-known/edgepurge-probe. Nothing
	// should serve it.
	Path string `yaml:"path"`
	// Tag is the probe's cache tag (Fastly surrogate key, Varnish xkey);
	// default edgepurge-probe.
	Tag string `yaml:"tag"`
}

// Readiness configures /readyz. The instance's own checks (config loaded,
// not draining) fail it at once; the shared ones (redis, "cloudflare zone
// Z", "fastly service S", "varnish node N", canary) are reported in
// /readyz?verbose, the "degraded" list and the edgepurge_ready metric, and
// fail it only after SharedGrace.
type Readiness struct {
	// SharedGrace is how long a shared check may fail before the instance
	// is unready; 0 (the default) means never: a Redis or CDN outage would
	// otherwise take every instance out of the load balancer at once.
	SharedGrace time.Duration `yaml:"shared_grace"`
	// Window is how long a backend target (Redis, a Cloudflare zone, a
	// Fastly service, a Varnish node) may fail every call before its check
	// fails; default 30 s. A success clears it at once.
	Window time.Duration `yaml:"window"`
}

// Dedupe configures the record of purged event ids, which turns a replayed
// or retried delivery into a "duplicate" answer.
type Dedupe struct {
	// Disabled turns duplicate detection off.
	Disabled bool `yaml:"disabled"`
	// Prefix of the Redis keys; the event id follows it.
	Prefix string `yaml:"prefix"`
	// TTL is how long an id is remembered; at least the signature tolerance
	// plus a margin.
	TTL time.Duration `yaml:"ttl"`
}

// Log configures log/slog.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Server holds the HTTP server's limits and the purge deadline.
type Server struct {
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// MaxBodyBytes is the largest request body accepted; larger is 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// PurgeTimeout is the deadline of one event's whole purge, every backend
	// included; well inside Statuspage's 30 s.
	PurgeTimeout time.Duration `yaml:"purge_timeout"`
	// RequestTimeout bounds everything one event's request does: the
	// duplicate check, the plan, the purge (at most PurgeTimeout), the
	// edge check and its re-purge, and the journal write; inside
	// Statuspage's 30 s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// DrainDelay is how long /readyz answers 503 after SIGTERM before the
	// listener closes, so the load balancer stops routing first.
	DrainDelay time.Duration `yaml:"drain_delay"`
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after the listener closed.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// AdminListen is the admin listener's address (/debug/pprof/), never
	// the public one; default 127.0.0.1:9091, "off" for none.
	AdminListen string `yaml:"admin_listen"`
}

// CloudflareZones are the Cloudflare zones the config names, sorted, once
// each: cloudflare.zone_id, the pages', the default rule's and the
// canary's. Zones only the page registry names are not among them.
func (c *Config) CloudflareZones() []string {
	var zones []string
	add := func(z string) {
		if z != "" {
			zones = append(zones, z)
		}
	}
	add(c.Cloudflare.ZoneID)
	for _, p := range c.Pages {
		add(p.Zone)
	}
	if c.Defaults != nil {
		add(c.Defaults.Zone)
	}
	add(c.Canary.Zone)
	slices.Sort(zones)
	return slices.Compact(zones)
}

// EdgeCheck asks for a check after each purge of a page: every purged URL
// is fetched through Edge and must not come from a copy cached before the
// purge; a stale URL is purged once more.
type EdgeCheck struct {
	Enabled bool `yaml:"enabled"`
	// Edge is the http(s) address of a cache serving the page, e.g.
	// http://127.0.0.1:6081; the URL's host goes in the Host header.
	Edge string `yaml:"edge"`
}

// Auth holds the credentials callers must present.
type Auth struct {
	// WebhookSecrets verify POST /v1/hooks/events (Standard Webhooks);
	// several for rotation.
	WebhookSecrets []purge.Secret `yaml:"webhook_secrets"`
	// StatuspageToken is the path token of POST /v1/hooks/statuspage/{token}.
	StatuspageToken purge.Secret `yaml:"statuspage_token"`
	// APIToken is the bearer token of /v1/purge, /v1/purges, /v1/journal,
	// /v1/stats, /v1/backends and so of the console.
	APIToken purge.Secret `yaml:"api_token"`
}

// PageRule says where a page is served and what to purge for it. Every
// string may use the templates {page_id}, {incident_id}, {component_id} and
// (paths only) {host}.
type PageRule struct {
	// Hosts are the page's hostnames (templates, e.g. {page_id}.status.example.com).
	Hosts []string `yaml:"hosts"`
	// Zone overrides cloudflare.zone_id for this page.
	Zone string `yaml:"zone"`
	// Schemes of the purged URLs; default https.
	Schemes []string `yaml:"schemes"`
	// Paths overrides the built-in path sets, group by group.
	Paths *Paths `yaml:"paths"`
	// Tags are CDN cache tags purged with every event of the page.
	Tags []string `yaml:"tags"`
	// Keys are Redis keys unlinked with every event of the page.
	Keys []string `yaml:"keys"`
	// KeySets are Redis sets of member keys: members and set are unlinked.
	KeySets []string `yaml:"key_sets"`
	// CDNOrder overrides the top-level cdn_order for this page.
	CDNOrder []string `yaml:"cdn_order"`
	// EdgeCheck checks the page's edge after each purge; off by default.
	EdgeCheck *EdgeCheck `yaml:"edge_check"`
	// SoftPurge overrides fastly.soft_purge for this page: mark stale
	// instead of evicting.
	SoftPurge *bool `yaml:"soft_purge"`
	// Cover names what purges every public URL of the page at once, for
	// the coalescing queue to use instead of the URLs when the URL budget
	// is the bottleneck (a storm); nil: none, the URLs always.
	Cover *Cover `yaml:"cover"`
}

// Cover is what stands for all of a page's URLs: cache tags the origin
// sends on every page response (Cache-Tag, Surrogate-Key), and/or the
// page's hostnames (a host purge). Cloudflare purges both, 100 items to a
// call from the tag/host budget; Fastly the tags (surrogate keys).
type Cover struct {
	// Tags are tag templates with {page_id}, e.g. page:{page_id}.
	Tags []string `yaml:"tags"`
	// Hosts covers the page by purging its hostnames.
	Hosts bool `yaml:"hosts"`
}

// Paths are path templates grouped by what makes them change. A nil group
// keeps the built-in default; an empty list purges none of that group.
type Paths struct {
	// Common paths change with every event.
	Common []string `yaml:"common"`
	// Incident paths change with incidents.
	Incident []string `yaml:"incident"`
	// Component paths change when components are touched.
	Component []string `yaml:"component"`
	// Maintenance paths change with scheduled maintenances.
	Maintenance []string `yaml:"maintenance"`
}

// Registry configures the Redis page registry.
type Registry struct {
	// Disabled turns registry look-ups off.
	Disabled bool `yaml:"disabled"`
	// Prefix of the registry hashes; the page id follows it.
	Prefix string `yaml:"prefix"`
	// CacheTTL is how long a look-up is remembered in process (default
	// 2s): a change the core app writes is seen within it.
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// Limits bound what one request may do.
type Limits struct {
	// MaxPlanURLs is the largest plan accepted; more is answered 422 rather
	// than becoming a purge storm.
	MaxPlanURLs int `yaml:"max_plan_urls"`
}
