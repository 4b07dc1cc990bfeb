package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
)

// CDN backend names, as cdn_order spells them.
const (
	CDNVarnish    = "varnish"
	CDNFastly     = "fastly"
	CDNCloudflare = "cloudflare"
	CDNAkamai     = "akamai"
	CDNCloudFront = "cloudfront"
)

// DefaultCDNOrder purges the inner cache (Varnish, behind the CDN) first.
// Fastly before Cloudflare is an arbitrary choice for the rare setup with
// both; such a setup states its own order.
var DefaultCDNOrder = []string{CDNVarnish, CDNFastly, CDNAkamai, CDNCloudflare, CDNCloudFront}

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
	applyAkamaiEnv(cfg, getenv)
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
		if c.Akamai.Enabled() && r.Cover != nil && r.Cover.Hosts {
			add("%s.cover.hosts: Akamai Fast Purge cannot purge by hostname; cover the page with a cache tag (cover.tags)", name)
		}
		if c.Akamai.Enabled() {
			tags := r.Tags
			if r.Cover != nil {
				tags = append(slices.Clone(tags), r.Cover.Tags...)
			}
			for _, t := range tags {
				if bad, ok := akamai.ValidTagTemplate(t); !ok {
					add("%s: tag %q: Akamai cache tags cannot contain %q (%s); use e.g. %q, and the same in the origin's Edge-Cache-Tag", name, t, bad, akamai.TagRule, akamaiTag(t))
				}
			}
		}
		if c.CloudFront.Enabled() && len(r.Tags) > 0 {
			add("%s.tags: CloudFront has no cache tags, so a plan with tags is refused (422); remove the rule's tags (its URLs are invalidated as paths), or turn CloudFront off", name)
		}
	}
	if c.Defaults != nil {
		check("defaults", *c.Defaults)
	}
	if c.Akamai.Enabled() {
		for name, t := range map[string]string{"probe.tag": c.Probe.Tag, "canary.tag": c.Canary.Tag} {
			if t != "" && !akamai.ValidTag(t) {
				add("%s=%q: %s; use e.g. %q", name, t, akamai.TagRule, akamaiTag(t))
			}
		}
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

// applyAkamaiEnv reads the AKAMAI_* variables Akamai's own tools read
// (the credentials, or an .edgerc file and its section), the network and
// a stand-in's base URL.
func applyAkamaiEnv(cfg *Config, getenv Getenv) {
	a := &cfg.Akamai
	set := func(dst *string, v string) {
		if v = strings.TrimSpace(v); v != "" {
			*dst = v
		}
	}
	secret := func(dst *purge.Secret, v string) {
		if v = strings.TrimSpace(v); v != "" {
			*dst = purge.Secret(v)
		}
	}
	set(&a.Host, getenv("AKAMAI_HOST"))
	secret(&a.ClientToken, getenv("AKAMAI_CLIENT_TOKEN"))
	secret(&a.ClientSecret, getenv("AKAMAI_CLIENT_SECRET"))
	secret(&a.AccessToken, getenv("AKAMAI_ACCESS_TOKEN"))
	set(&a.EdgeRC, getenv("AKAMAI_EDGERC"))
	set(&a.Section, getenv("AKAMAI_EDGERC_SECTION"))
	set(&a.Network, getenv("AKAMAI_NETWORK"))
	set(&a.BaseURL, getenv("AKAMAI_BASE_URL"))
}

// akamaiTag is t with what Akamai's cache tags do not allow, outside its
// {placeholders}, replaced by '-': a suggestion for an error message.
func akamaiTag(t string) string {
	b := []byte(t)
	depth := 0
	for i, c := range b {
		switch {
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth == 0:
			if _, ok := akamai.ValidTagTemplate(string(c)); !ok {
				b[i] = '-'
			}
		}
	}
	return string(b)
}
