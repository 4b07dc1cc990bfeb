package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// CDN backend names, as cdn_order spells them.
const (
	CDNVarnish    = "varnish"
	CDNFastly     = "fastly"
	CDNCloudflare = "cloudflare"
	CDNCloudFront = "cloudfront"
)

// DefaultCDNOrder purges the inner cache (Varnish, behind the CDN) first.
// Fastly before Cloudflare is an arbitrary choice for the rare setup with
// both; such a setup states its own order.
var DefaultCDNOrder = []string{CDNVarnish, CDNFastly, CDNCloudflare, CDNCloudFront}

// applyCDNEnv reads the Fastly variables and EDGEPURGE_VARNISH_URLS, the
// node URLs comma-separated.
func applyCDNEnv(cfg *Config, getenv Getenv) {
	if v := strings.TrimSpace(getenv("FASTLY_API_TOKEN")); v != "" {
		cfg.Fastly.APIToken = purge.Secret(v)
	}
	if v := strings.TrimSpace(getenv("FASTLY_SERVICE_ID")); v != "" {
		cfg.Fastly.ServiceID = v
	}
	if v := strings.TrimSpace(getenv("FASTLY_BASE_URL")); v != "" {
		cfg.Fastly.BaseURL = v
	}
	// The AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) are read
	// by the SDK's default chain itself.
	if v := strings.TrimSpace(getenv("CLOUDFRONT_DISTRIBUTION_ID")); v != "" {
		cfg.CloudFront.DistributionID = v
	}
	if v := strings.TrimSpace(getenv("CLOUDFRONT_BASE_URL")); v != "" {
		cfg.CloudFront.BaseURL = v
	}
	if v := getenv("EDGEPURGE_VARNISH_URLS"); strings.TrimSpace(v) != "" {
		cfg.Varnish.Nodes = splitList(v)
	}
}

// validateCDNs checks what spans the backends and the pages: the CDN
// orders, the pages' edge checks and covers.
func (c *Config) validateCDNs() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkCDNOrder(c.CDNOrder); err != nil {
		add("cdn_order: %v", err)
	}
	check := func(name string, r PageRule) {
		if err := checkCDNOrder(r.CDNOrder); err != nil {
			add("%s.cdn_order: %v", name, err)
		}
		if r.EdgeCheck != nil && r.EdgeCheck.Enabled {
			if err := purge.CheckBaseURL(r.EdgeCheck.Edge); err != nil {
				add("%s.edge_check.edge: %v", name, err)
			}
		}
		if c.Fastly.Enabled() && r.Cover != nil && r.Cover.Hosts {
			add("%s.cover.hosts: Fastly cannot purge by hostname; cover the page with a surrogate key (cover.tags)", name)
		}
		if c.CloudFront.Enabled() && len(r.Tags) > 0 {
			add("%s.tags: CloudFront has no cache tags, so a plan with tags is refused (422); remove the rule's tags (its URLs are invalidated as paths), or turn CloudFront off", name)
		}
	}
	if c.Defaults != nil {
		check("defaults", *c.Defaults)
	}
	for id, p := range c.Pages {
		check("pages."+id, p)
	}
	return errs
}

func checkCDNOrder(order []string) error {
	for i, name := range order {
		if !slices.Contains(DefaultCDNOrder, name) {
			return fmt.Errorf("%q: must be one of %s", name, strings.Join(DefaultCDNOrder, ", "))
		}
		if slices.Contains(order[:i], name) {
			return fmt.Errorf("%q listed twice", name)
		}
	}
	return nil
}
