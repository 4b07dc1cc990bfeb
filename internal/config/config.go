// Package config loads edgepurge's configuration: one strict YAML file with
// ${ENV} expansion, then the environment overrides of PRODUCT.md, so the
// common single-zone deployment runs from the environment alone.
package config

import (
	"slices"
	"time"
)

// Config is the whole configuration of an edgepurge process.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// DryRun plans and answers but purges nothing. It is never implied: a
	// config without a CDN and without dry_run is an error.
	DryRun     bool       `yaml:"dry_run"`
	Log        Log        `yaml:"log"`
	Server     Server     `yaml:"server"`
	Redis      Redis      `yaml:"redis"`
	Cloudflare Cloudflare `yaml:"cloudflare"`
	// Varnish is the Varnish cache nodes the owner runs.
	Varnish Varnish `yaml:"varnish"`
	// Fastly is the Fastly CDN.
	Fastly Fastly `yaml:"fastly"`
	// CDNOrder is the order in which the CDN backends are purged, by name
	// (varnish, fastly, cloudflare): inner caches first, so an outer cache
	// cannot re-fetch stale content from an inner one. Default: varnish,
	// fastly, cloudflare. Backends it leaves out follow in the default order.
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
}

// Redis says how to reach Redis: one URL, read as a single node, a Cluster
// or a Sentinel-managed master depending on Mode.
type Redis struct {
	// URL is redis:// or rediss://. For a cluster, extra nodes go in
	// ?addr=host:port parameters; for sentinel, the sentinels' addresses and
	// ?master_name=.
	URL string `yaml:"url"`
	// Mode is single (default), cluster or sentinel.
	Mode string `yaml:"mode"`
	// PingTimeout bounds the readiness PING.
	PingTimeout time.Duration `yaml:"ping_timeout"`
}

// Cloudflare is the zone-purging CDN.
type Cloudflare struct {
	APIToken Secret `yaml:"api_token"`
	// AccountID is the account of an account-owned API token
	// (CLOUDFLARE_ACCOUNT_ID): such a token is verified at
	// /accounts/{account_id}/tokens/verify; without it, at
	// /user/tokens/verify, which knows user tokens only.
	AccountID string `yaml:"account_id"`
	// ZoneID is the default zone, used by pages that do not name their own.
	ZoneID string `yaml:"zone_id"`
	// BaseURL points the SDK at another API (a stand-in); empty for the real one.
	BaseURL string `yaml:"base_url"`
	// MaxURLsPerCall is the per-call URL limit: 100 on every plan, 500 on Enterprise.
	MaxURLsPerCall int `yaml:"max_urls_per_call"`
	// Coalesce batches the purges of concurrent events per zone (group
	// commit) and never purges an item twice while it waits; default true.
	// Off, every event makes its own calls (for comparison only).
	Coalesce *bool `yaml:"coalesce"`
	// MaxInflightCalls is how many purge calls may be in flight per zone
	// and kind (default DefaultCloudflareMaxInflightCalls).
	MaxInflightCalls int `yaml:"max_inflight_calls"`
	// Plan picks the rate-limit preset of the zones Zones does not name:
	// free, pro, business or enterprise (default pro; CLOUDFLARE_PLAN).
	// The explicit limits below override it.
	Plan string `yaml:"plan"`
	// Zones gives zones settings of their own: their plan. Cloudflare's
	// purge buckets are per account and plan, so each plan gets buckets of
	// its own and a 429 pauses only its plan's.
	Zones map[string]CloudflareZone `yaml:"zones"`
	// RateLimit overrides the purge rate limits of Plan (the default
	// plan); the plans Zones names keep their presets.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of Cloudflare.
	Breaker Breaker `yaml:"breaker"`
	// Escalation purges waiting pages by their cover instead of their URLs
	// when the URL budget is the bottleneck.
	Escalation Escalation `yaml:"escalation"`
}

// Escalation says when the coalescing queue purges a waiting page by its
// cover (pages.<id>.cover) instead of its URLs: when the URLs waiting for
// the URL budget would take longer than After to go out, and the covers
// waiting for the tag/host budget would not take as long.
type Escalation struct {
	// Disabled keeps every page on its URLs.
	Disabled bool `yaml:"disabled"`
	// After is the URL queue's projected wait past which pages escalate;
	// default 1 s.
	After time.Duration `yaml:"after"`
}

// RateLimit is Cloudflare's per-account purge budget: single-file URLs per
// second, and tag/host/prefix/everything calls per second, each a token
// bucket shared by every instance (through Redis).
type RateLimit struct {
	URLsPerSecond  float64 `yaml:"urls_per_second"`
	URLBurst       int     `yaml:"url_burst"`
	CallsPerSecond float64 `yaml:"calls_per_second"`
	CallBurst      int     `yaml:"call_burst"`
	// Disabled turns edgepurge's own limiting off (the CDN still limits).
	Disabled bool `yaml:"disabled"`
	// Account names the shared bucket in Redis; instances purging for the
	// same Cloudflare account must use the same name.
	Account string `yaml:"account"`
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

// Coalescing reports whether purges are coalesced and batched (the default).
func (c Cloudflare) Coalescing() bool { return c.Coalesce == nil || *c.Coalesce }

// Enabled reports whether Cloudflare purging is configured.
func (c Cloudflare) Enabled() bool { return c.APIToken != "" }

// Varnish is a set of Varnish nodes running the reference VCL
// (examples/varnish/default.vcl); every purge goes to every node.
type Varnish struct {
	// Nodes are the nodes' base URLs, e.g. http://127.0.0.1:6081.
	Nodes []string `yaml:"nodes"`
	// SoftPurge sends tag purges as xkey soft purges (kept for grace).
	SoftPurge bool `yaml:"soft_purge"`
	// Timeout bounds one request to one node.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether Varnish purging is configured.
func (v Varnish) Enabled() bool { return len(v.Nodes) > 0 }

// Verify asks for a check after each purge of a page: every purged URL is
// fetched through Edge and must not come from a copy cached before the
// purge; a stale URL is purged once more.
type Verify struct {
	Enabled bool `yaml:"enabled"`
	// Edge is the http(s) address of a cache serving the page, e.g.
	// http://127.0.0.1:6081; the URL's host goes in the Host header.
	Edge string `yaml:"edge"`
}

// Auth holds the credentials callers must present.
type Auth struct {
	// WebhookSecrets verify POST /v1/hooks/events (Standard Webhooks);
	// several for rotation.
	WebhookSecrets []Secret `yaml:"webhook_secrets"`
	// StatuspageToken is the path token of POST /v1/hooks/statuspage/{token}.
	StatuspageToken Secret `yaml:"statuspage_token"`
	// APIToken is the bearer token of /v1/purge and /v1/purges.
	APIToken Secret `yaml:"api_token"`
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
	// Verify checks the page's edge after each purge; off by default.
	Verify *Verify `yaml:"verify"`
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

// Secret is a credential. It prints, logs and marshals as "[redacted]" so
// that it can never leak through a log line or an answer.
type Secret string

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText implements encoding.TextMarshaler (JSON and YAML output).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Value returns the secret itself, for the code that must use it.
func (s Secret) Value() string { return string(s) }
