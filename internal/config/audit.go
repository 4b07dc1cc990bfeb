package config

import (
	"cmp"
	"fmt"
	"net/url"
	"time"
)

// Defaults of the canary and the audit trail.
const (
	DefaultCanaryInterval = 30 * time.Second
	DefaultAuditStream    = "edgepurge:audit"
	DefaultAuditMaxLen    = 10000
	DefaultAuditBuffer    = 1024
	DefaultAuditMemory    = 1000
)

// Canary is a URL or tag that edgepurge purges itself every Interval
// through the normal path, so readiness proves it can really purge. Off
// when neither URL nor Tag is set.
type Canary struct {
	// URL is an absolute URL purged by every run; use one nobody reads.
	URL string `yaml:"url"`
	// Tag is a cache tag purged by every run.
	Tag string `yaml:"tag"`
	// Zone is the CDN zone; default cloudflare.zone_id.
	Zone string `yaml:"zone"`
	// Interval between runs; default 30 s.
	Interval time.Duration `yaml:"interval"`
	// MaxAge is how old the last success may be before readiness fails;
	// default three intervals.
	MaxAge time.Duration `yaml:"max_age"`
}

// Enabled reports whether a canary is configured.
func (c Canary) Enabled() bool { return c.URL != "" || c.Tag != "" }

// Audit configures the audit trail of purges: a capped Redis Stream, with
// an in-memory ring when Redis cannot be written.
type Audit struct {
	// Disabled turns the audit trail off.
	Disabled bool `yaml:"disabled"`
	// Stream is the Redis Stream's key; default edgepurge:audit.
	Stream string `yaml:"stream"`
	// MaxLen caps the stream (approximately, XADD MAXLEN ~); default 10000.
	MaxLen int64 `yaml:"max_len"`
	// Buffer is how many records may wait for the writer before new ones
	// are dropped (and counted); default 1024.
	Buffer int `yaml:"buffer"`
	// Memory is how many records the in-memory ring keeps; default 1000.
	Memory int `yaml:"memory"`
}

func (c *Config) setOpsDefaults() {
	if c.Canary.Enabled() {
		c.Canary.Interval = cmp.Or(c.Canary.Interval, DefaultCanaryInterval)
		c.Canary.MaxAge = cmp.Or(c.Canary.MaxAge, 3*c.Canary.Interval)
		c.Canary.Zone = cmp.Or(c.Canary.Zone, c.Cloudflare.ZoneID)
	}
	c.Audit.Stream = cmp.Or(c.Audit.Stream, DefaultAuditStream)
	c.Audit.MaxLen = cmp.Or(c.Audit.MaxLen, DefaultAuditMaxLen)
	c.Audit.Buffer = cmp.Or(c.Audit.Buffer, DefaultAuditBuffer)
	c.Audit.Memory = cmp.Or(c.Audit.Memory, DefaultAuditMemory)
}

// validateOps checks the canary and the audit trail.
func (c *Config) validateOps() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cn := c.Canary; cn.Enabled() {
		if cn.URL != "" {
			if u, err := url.Parse(cn.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("canary.url=%q: want an absolute http(s) URL", cn.URL)
			}
		}
		if cn.Interval < time.Second {
			add("canary.interval=%s: must be at least 1s", cn.Interval)
		}
		if cn.MaxAge < cn.Interval {
			add("canary.max_age=%s: must be at least canary.interval (%s)", cn.MaxAge, cn.Interval)
		}
		if c.Cloudflare.Enabled() && cn.Zone == "" {
			add("canary has no Cloudflare zone: set canary.zone, or CLOUDFLARE_ZONE_ID (cloudflare.zone_id) to the zone's id")
		}
	}
	if c.Audit.MaxLen < 1 {
		add("audit.max_len=%d: must be positive", c.Audit.MaxLen)
	}
	if c.Audit.Buffer < 1 {
		add("audit.buffer=%d: must be positive", c.Audit.Buffer)
	}
	if c.Audit.Memory < 1 {
		add("audit.memory=%d: must be positive", c.Audit.Memory)
	}
	return errs
}
