package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
)

// Defaults of every knob left unset.
const (
	DefaultListen           = ":8080"
	DefaultMaxBodyBytes     = 1 << 20
	DefaultPurgeTimeout     = 10 * time.Second
	DefaultRequestTimeout   = 20 * time.Second
	DefaultReadTimeout      = 5 * time.Second
	DefaultWriteTimeout     = 15 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultDrainDelay       = 5 * time.Second
	DefaultShutdownTimeout  = 20 * time.Second
	DefaultMaxPlanURLs      = 2000
	DefaultRegistryPrefix   = "edgepurge:page:"
	DefaultRegistryCacheTTL = 2 * time.Second
	DefaultDedupePrefix     = "edgepurge:seen:"
	DefaultDedupeTTL        = 30 * time.Minute
	DefaultReadinessWindow  = 30 * time.Second
	DefaultProbeInterval    = 30 * time.Second
	DefaultProbePath        = "/.well-known/edgepurge-probe"
	DefaultProbeTag         = "edgepurge-probe"
)

// Getenv reads an environment variable; os.Getenv in production, a map in tests.
type Getenv func(key string) string

// Load reads the YAML file at path (none when path is empty), expands
// ${VAR} and ${VAR:-default} in it, applies the environment overrides, fills
// in defaults and validates the result.
func Load(path string, getenv Getenv) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := &Config{}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(raw, getenv, cfg); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(cfg, getenv); err != nil {
		return nil, err
	}
	cfg.Redis.URLFromEnv, cfg.Redis.File = strings.TrimSpace(getenv("REDIS_URL")) != "", path
	if err := Finish(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Finish fills in the defaults of cfg and validates it; Load calls it, and
// so can code that builds a Config by hand.
func Finish(cfg *Config) error {
	cfg.setDefaults()
	return cfg.Validate()
}

// Parse decodes raw strictly into cfg (an unknown or duplicate key is an
// error), then expands ${VAR} and ${VAR:-default} in every string value.
// Expanding after parsing means comments are never expanded and a secret
// holding YAML syntax (": ", "#", quotes) can neither break the file nor
// inject keys.
func Parse(raw []byte, getenv Getenv, cfg *Config) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := yaml.UnmarshalWithOptions(raw, cfg, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		if err := checkRemoved(raw); err != nil {
			return err
		}
		if errs := problems(raw); len(errs) > 0 {
			return errors.Join(errs...)
		}
		return fmt.Errorf("parse yaml: %s", yaml.FormatError(err, false, true))
	}
	var missing []string
	expandStrings(reflect.ValueOf(cfg).Elem(), func(s string) string {
		return envRef.ReplaceAllStringFunc(s, func(m string) string {
			sub := envRef.FindStringSubmatch(m)
			if v := getenv(sub[1]); v != "" {
				return v
			}
			if sub[2] != "" {
				return sub[3]
			}
			missing = append(missing, sub[1])
			return ""
		})
	})
	if len(missing) > 0 {
		return fmt.Errorf("environment variables referenced but not set: %s", strings.Join(missing, ", "))
	}
	return nil
}

// removedCoalesce says what became of cloudflare.coalesce
// (EDGEPURGE_COALESCE), which turned coalescing off for a benchmark.
const removedCoalesce = "was removed: purges are always coalesced and batched"

// checkRemoved names a key edgepurge no longer has that raw still sets, so
// that such a file fails to load saying what to do rather than as an
// unknown key.
func checkRemoved(raw []byte) error {
	var doc struct {
		Cloudflare map[string]any            `yaml:"cloudflare"`
		Defaults   map[string]any            `yaml:"defaults"`
		Pages      map[string]map[string]any `yaml:"pages"`
	}
	if yaml.Unmarshal(raw, &doc) != nil {
		return nil
	}
	if _, ok := doc.Cloudflare["coalesce"]; ok {
		return fmt.Errorf("cloudflare.coalesce %s; delete the key", removedCoalesce)
	}
	if _, ok := doc.Defaults["verify"]; ok {
		return errors.New("defaults.verify was renamed edge_check; rename the key")
	}
	for _, id := range slices.Sorted(maps.Keys(doc.Pages)) {
		if _, ok := doc.Pages[id]["verify"]; ok {
			return fmt.Errorf("pages.%s.verify was renamed edge_check; rename the key", id)
		}
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandStrings applies f to every string reachable from v: fields,
// pointers, slices and map values.
func expandStrings(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(v.String()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			expandStrings(v.Elem(), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			expandStrings(v.Field(i), f)
		}
	case reflect.Slice:
		for i := range v.Len() {
			expandStrings(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			expandStrings(e, f)
			v.SetMapIndex(k, e)
		}
	}
}

// applyEnv lets the deployment's environment override the file.
func applyEnv(cfg *Config, getenv Getenv) error {
	set := func(dst *string, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	setSecret := func(dst *purge.Secret, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = purge.Secret(v)
		}
	}
	set(&cfg.Listen, "EDGEPURGE_LISTEN")
	set(&cfg.Server.AdminListen, "EDGEPURGE_ADMIN_LISTEN")
	set(&cfg.Redis.URL, "REDIS_URL")
	setSecret(&cfg.Cloudflare.APIToken, "CLOUDFLARE_API_TOKEN")
	set(&cfg.Cloudflare.ZoneID, "CLOUDFLARE_ZONE_ID")
	set(&cfg.Cloudflare.BaseURL, "CLOUDFLARE_BASE_URL")
	set(&cfg.Cloudflare.AccountID, "CLOUDFLARE_ACCOUNT_ID")
	applyCDNEnv(cfg, getenv)
	if err := applyJournalEnv(cfg, getenv); err != nil {
		return err
	}
	setSecret(&cfg.Auth.StatuspageToken, "EDGEPURGE_STATUSPAGE_TOKEN")
	setSecret(&cfg.Auth.APIToken, "EDGEPURGE_API_TOKEN")
	if v := getenv("EDGEPURGE_WEBHOOK_SECRETS"); strings.TrimSpace(v) != "" {
		cfg.Auth.WebhookSecrets = nil
		for _, s := range splitList(v) {
			cfg.Auth.WebhookSecrets = append(cfg.Auth.WebhookSecrets, purge.Secret(s))
		}
	}
	if v := getenv("EDGEPURGE_HOSTS"); strings.TrimSpace(v) != "" {
		if cfg.Defaults == nil {
			cfg.Defaults = &PageRule{}
		}
		cfg.Defaults.Hosts = splitList(v)
	}
	if v := getenv("EDGEPURGE_TAGS"); strings.TrimSpace(v) != "" && cfg.Defaults != nil {
		cfg.Defaults.Tags = splitList(v)
	}
	if v := getenv("EDGEPURGE_KEYS"); strings.TrimSpace(v) != "" && cfg.Defaults != nil {
		cfg.Defaults.Keys = splitList(v)
	}
	if err := applyCoverEnv(cfg, getenv); err != nil {
		return err
	}
	set(&cfg.Cloudflare.Plan, "CLOUDFLARE_PLAN")
	// Unknown variables are ignored, and so is this one set to what now
	// always happens; set to turn coalescing off, it must not pass unseen.
	if v := strings.TrimSpace(getenv("EDGEPURGE_COALESCE")); v != "" {
		if b, err := strconv.ParseBool(v); err != nil || !b {
			return fmt.Errorf("EDGEPURGE_COALESCE=%q: cloudflare.coalesce %s; unset it", v, removedCoalesce)
		}
	}
	if err := applyProbeEnv(cfg, getenv); err != nil {
		return err
	}
	if v := strings.TrimSpace(getenv("EDGEPURGE_DRY_RUN")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("EDGEPURGE_DRY_RUN=%q: want true or false", v)
		}
		cfg.DryRun = b
	}
	return nil
}

// applyProbeEnv reads the probes' and the readiness window's variables.
func applyProbeEnv(cfg *Config, getenv Getenv) error {
	if v := strings.TrimSpace(getenv("EDGEPURGE_PROBE_DISABLED")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("EDGEPURGE_PROBE_DISABLED=%q: want true or false", v)
		}
		cfg.Probe.Disabled = b
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"EDGEPURGE_PROBE_INTERVAL", &cfg.Probe.Interval}, {"EDGEPURGE_READINESS_WINDOW", &cfg.Readiness.Window}} {
		if v := strings.TrimSpace(getenv(d.key)); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration such as 30s", d.key, v)
			}
			*d.dst = x
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Config) setDefaults() {
	c.Listen = cmp.Or(c.Listen, DefaultListen)
	c.Log.Level = cmp.Or(c.Log.Level, "info")
	c.Log.Format = cmp.Or(c.Log.Format, "json")
	sv := &c.Server
	sv.ReadTimeout = cmp.Or(sv.ReadTimeout, DefaultReadTimeout)
	sv.WriteTimeout = cmp.Or(sv.WriteTimeout, DefaultWriteTimeout)
	sv.IdleTimeout = cmp.Or(sv.IdleTimeout, DefaultIdleTimeout)
	sv.PurgeTimeout = cmp.Or(sv.PurgeTimeout, DefaultPurgeTimeout)
	sv.RequestTimeout = cmp.Or(sv.RequestTimeout, DefaultRequestTimeout)
	sv.DrainDelay = cmp.Or(sv.DrainDelay, DefaultDrainDelay)
	sv.ShutdownTimeout = cmp.Or(sv.ShutdownTimeout, DefaultShutdownTimeout)
	sv.MaxBodyBytes = cmp.Or(sv.MaxBodyBytes, DefaultMaxBodyBytes)
	c.Redis.SetDefaults()
	c.Cloudflare.SetDefaults()
	c.Varnish.SetDefaults()
	if c.Fastly.Enabled() {
		c.Fastly.SetDefaults()
	}
	if c.Akamai.Enabled() {
		c.Akamai.SetDefaults()
	}
	if c.CloudFront.Enabled() {
		c.CloudFront.SetDefaults()
	}
	if len(c.CDNOrder) == 0 {
		c.CDNOrder = slices.Clone(DefaultCDNOrder)
	}
	c.setOpsDefaults()
	c.setJournalDefaults()
	c.setTracingDefaults()
	c.Readiness.Window = cmp.Or(c.Readiness.Window, DefaultReadinessWindow)
	c.Probe.Interval = cmp.Or(c.Probe.Interval, DefaultProbeInterval)
	c.Probe.Path = cmp.Or(c.Probe.Path, DefaultProbePath)
	c.Probe.Tag = cmp.Or(c.Probe.Tag, DefaultProbeTag)
	c.Registry.CacheTTL = cmp.Or(c.Registry.CacheTTL, DefaultRegistryCacheTTL)
	c.Registry.Prefix = cmp.Or(c.Registry.Prefix, DefaultRegistryPrefix)
	c.Dedupe.Prefix = cmp.Or(c.Dedupe.Prefix, DefaultDedupePrefix)
	c.Dedupe.TTL = cmp.Or(c.Dedupe.TTL, DefaultDedupeTTL)
	c.Limits.MaxPlanURLs = cmp.Or(c.Limits.MaxPlanURLs, DefaultMaxPlanURLs)
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !c.DryRun && !c.Cloudflare.Enabled() && !c.Varnish.Enabled() && !c.Fastly.Enabled() && !c.Akamai.Enabled() && !c.CloudFront.Enabled() {
		add("no CDN configured: set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID (cloudflare.api_token, cloudflare.zone_id), FASTLY_API_TOKEN and FASTLY_SERVICE_ID (fastly.api_token, fastly.service_id), AKAMAI_EDGERC or AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET and AKAMAI_ACCESS_TOKEN (akamai.*), CLOUDFRONT_DISTRIBUTION_ID (cloudfront.distribution_id, with AWS credentials), or EDGEPURGE_VARNISH_URLS (varnish.nodes), or set EDGEPURGE_DRY_RUN=true to purge nothing")
	}
	if c.CloudFront.Enabled() {
		errs = append(errs, c.CloudFront.Validate()...)
	}
	errs = append(errs, c.Varnish.Validate()...)
	if c.Fastly.Enabled() {
		errs = append(errs, c.Fastly.Validate()...)
	}
	if c.Akamai.Enabled() {
		errs = append(errs, c.Akamai.Validate()...)
	}
	errs = append(errs, c.Cloudflare.Validate()...)
	errs = append(errs, c.validateCDNs()...)
	errs = append(errs, c.validateOps()...)
	errs = append(errs, c.validateTracing()...)
	errs = append(errs, c.validateJournal()...)
	if c.Cloudflare.Enabled() && !c.DryRun {
		if c.Cloudflare.ZoneID == "" {
			for id, p := range c.Pages {
				if p.Zone == "" {
					add("page %q has no Cloudflare zone: set pages.%[1]s.zone, or CLOUDFLARE_ZONE_ID (cloudflare.zone_id) to the zone's id", id)
				}
			}
			if c.Defaults != nil && c.Defaults.Zone == "" {
				add("the default rule (defaults, EDGEPURGE_HOSTS) has no Cloudflare zone: set CLOUDFLARE_ZONE_ID (or cloudflare.zone_id / defaults.zone) to the zone's id, or unset CLOUDFLARE_API_TOKEN for a dry run (make run), or set EDGEPURGE_DRY_RUN=true")
			}
		}
	}
	if c.Canary.Zone != "" && !purge.ValidZone(c.Canary.Zone) {
		add("canary.zone=%q: %s", c.Canary.Zone, purge.ZoneRule)
	}
	for id, p := range c.Pages {
		if p.Zone != "" && !purge.ValidZone(p.Zone) {
			add("page %q: zone %q: %s", id, p.Zone, purge.ZoneRule)
		}
	}
	if c.Defaults != nil && c.Defaults.Zone != "" && !purge.ValidZone(c.Defaults.Zone) {
		add("defaults.zone=%q: %s", c.Defaults.Zone, purge.ZoneRule)
	}
	if c.Readiness.Window < 100*time.Millisecond {
		add("readiness.window=%s: must be at least 100ms", c.Readiness.Window)
	}
	if c.Probe.Interval < time.Second {
		add("probe.interval=%s: must be at least 1s", c.Probe.Interval)
	}
	if !strings.HasPrefix(c.Probe.Path, "/") || strings.ContainsAny(c.Probe.Path, "?# \t") {
		add("probe.path=%q: must be a path starting with / (no query, fragment or spaces)", c.Probe.Path)
	}
	if c.Probe.Tag == "" || strings.ContainsAny(c.Probe.Tag, " \t,") {
		add("probe.tag=%q: must be one tag, without spaces or commas", c.Probe.Tag)
	}
	if c.Readiness.SharedGrace < 0 {
		add("readiness.shared_grace=%s: must not be negative", c.Readiness.SharedGrace)
	}
	if c.Server.RequestTimeout < c.Server.PurgeTimeout {
		add("server.request_timeout=%s: must be at least server.purge_timeout (%s): it bounds the whole request, the purge included", c.Server.RequestTimeout, c.Server.PurgeTimeout)
	}
	if err := c.Redis.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		add("log.format=%q: must be json or text", c.Log.Format)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		add("log.level=%q: must be debug, info, warn or error", c.Log.Level)
	}
	if c.Server.MaxBodyBytes < 1024 {
		add("server.max_body_bytes=%d: must be at least 1024", c.Server.MaxBodyBytes)
	}
	if c.Dedupe.TTL < 6*time.Minute {
		add("dedupe.ttl=%s: must outlive the 5-minute signature tolerance (at least 6m)", c.Dedupe.TTL)
	}
	if c.Limits.MaxPlanURLs < 1 {
		add("limits.max_plan_urls=%d: must be positive", c.Limits.MaxPlanURLs)
	}
	for i, s := range c.Auth.WebhookSecrets {
		if s == "" {
			add("auth.webhook_secrets[%d]: empty", i)
		}
	}
	if c.Defaults != nil && len(c.Defaults.Hosts) == 0 {
		add("defaults: no hosts (set defaults.hosts or EDGEPURGE_HOSTS)")
	}
	for id, p := range c.Pages {
		if len(p.Hosts) == 0 {
			add("page %q: no hosts", id)
		}
	}
	return errors.Join(errs...)
}

// ReservedKeyPrefixes are the Redis key prefixes of edgepurge's own state
// (registry, duplicate records, journal, audit trail, rate-limit buckets):
// no event or page rule may name a key under them, or a signed event could
// unlink edgepurge's own bookkeeping.
func (c *Config) ReservedKeyPrefixes() []string {
	rl := c.Cloudflare.RateLimitPrefix()
	frl := c.Fastly.RateLimitPrefix()
	arl := c.Akamai.RateLimitPrefix()
	crl := c.CloudFront.RateLimitPrefix()
	out := []string{c.Registry.Prefix, c.Dedupe.Prefix, c.Journal.Stream, c.Journal.DeadStream, c.Audit.Stream, rl, "rate:" + rl, frl, "rate:" + frl, arl, "rate:" + arl,
		crl, "rate:" + crl, cmp.Or(c.CloudFront.RefsPrefix, cloudfront.DefaultRefsPrefix)}
	kept := out[:0]
	for _, p := range out {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return kept
}
