package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// CDN backend names, as cdn_order spells them.
const (
	CDNVarnish    = "varnish"
	CDNCloudflare = "cloudflare"
)

// DefaultVarnishTimeout bounds one request to one Varnish node.
const DefaultVarnishTimeout = 5 * time.Second

// DefaultCDNOrder purges the inner cache (Varnish, behind the CDN) first.
// Fastly before Cloudflare is an arbitrary choice for the rare setup with
// both; such a setup states its own order.
var DefaultCDNOrder = []string{CDNVarnish, CDNFastly, CDNCloudflare}

// applyVarnishEnv reads EDGEPURGE_VARNISH_URLS, the node URLs comma-separated.
func applyVarnishEnv(cfg *Config, getenv Getenv) {
	if v := getenv("EDGEPURGE_VARNISH_URLS"); strings.TrimSpace(v) != "" {
		cfg.Varnish.Nodes = splitList(v)
	}
}

func (c *Config) setVarnishDefaults() {
	if c.Varnish.Timeout == 0 {
		c.Varnish.Timeout = DefaultVarnishTimeout
	}
	if len(c.CDNOrder) == 0 {
		c.CDNOrder = slices.Clone(DefaultCDNOrder)
	}
}

// validateVarnish checks the Varnish nodes, the CDN orders and the pages'
// verification edges.
func (c *Config) validateVarnish() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for i, n := range c.Varnish.Nodes {
		if err := checkBaseURL(n); err != nil {
			add("varnish.nodes[%d]: %v", i, err)
		}
	}
	if c.Varnish.Timeout <= 0 {
		add("varnish.timeout=%s: must be positive", c.Varnish.Timeout)
	}
	if err := checkCDNOrder(c.CDNOrder); err != nil {
		add("cdn_order: %v", err)
	}
	check := func(name string, r PageRule) {
		if err := checkCDNOrder(r.CDNOrder); err != nil {
			add("%s.cdn_order: %v", name, err)
		}
		if r.Verify != nil && r.Verify.Enabled {
			if err := checkBaseURL(r.Verify.Edge); err != nil {
				add("%s.verify.edge: %v", name, err)
			}
		}
	}
	if c.Defaults != nil {
		check("defaults", *c.Defaults)
	}
	for id, p := range c.Pages {
		check(fmt.Sprintf("pages.%s", id), p)
	}
	return errs
}

// checkBaseURL accepts http(s)://host[:port] with no path or query.
func checkBaseURL(s string) error {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return fmt.Errorf("%q: want http(s)://host:port", s)
	}
	return nil
}

func checkCDNOrder(order []string) error {
	for i, name := range order {
		if !slices.Contains(DefaultCDNOrder, name) {
			return fmt.Errorf("%q: must be %s, %s or %s", name, CDNVarnish, CDNFastly, CDNCloudflare)
		}
		if slices.Contains(order[:i], name) {
			return fmt.Errorf("%q listed twice", name)
		}
	}
	return nil
}
