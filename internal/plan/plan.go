// Package plan turns an event into the exact set of things to purge: every
// public URL of the page on every hostname, CDN cache tags and Redis keys.
package plan

import (
	"slices"

	"github.com/edgepurge/edgepurge/purge"
)

// Plan is everything one event purges. It is deduplicated and sorted, so
// the same event always gives the same plan.
type Plan struct {
	// Page is the page the plan is for; empty for a manual purge of bare items.
	Page string `json:"page,omitempty"`
	// Zone is the CDN zone of the page.
	Zone       string   `json:"zone,omitempty"`
	URLs       []string `json:"urls"`
	Tags       []string `json:"tags"`
	Hosts      []string `json:"hosts,omitempty"`
	Prefixes   []string `json:"prefixes,omitempty"`
	Everything bool     `json:"everything,omitempty"`
	// Keys are Redis keys to unlink.
	Keys []string `json:"keys"`
	// KeySets are Redis sets whose members are unlinked with them.
	KeySets []string `json:"key_sets,omitempty"`
	// Warnings say where the plan may be incomplete (e.g. the registry was
	// unreachable and the default rule was used).
	Warnings []string `json:"warnings,omitempty"`
	// Cover, when the page has one, purges all of the page's URLs at once
	// (a tag and/or its hostnames): the coalescing queue may use it instead
	// of the URLs in a storm. Nil when the event names URLs of its own,
	// which the cover might not reach.
	Cover *Cover `json:"cover,omitempty"`
	// Incomplete says some of the page may be missing from the plan (its
	// hosts could not all be known): what it names is purged, but the
	// event is never answered 2xx nor marked purged, so that it is sent
	// again.
	Incomplete bool `json:"incomplete,omitempty"`
	// CDNOrder is the page's order of the CDN purgers by name (inner caches
	// first); empty keeps the configured order.
	CDNOrder []string `json:"-"`
	// SoftPurge asks for soft purges (see purge.Request.Soft), from the
	// page's rule.
	SoftPurge bool `json:"-"`
	// EdgeCheck, when set, is the edge address through which each purged
	// URL is fetched after the purge to check it is not served stale.
	EdgeCheck string `json:"-"`
}

// Cover is what stands for all of a page's URLs (config.Cover, rendered).
type Cover struct {
	Tags  []string `json:"tags,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

// CDN is the CDN part of the plan.
func (p *Plan) CDN() purge.Request {
	return purge.Request{
		Zone: p.Zone, URLs: p.URLs, Tags: p.Tags,
		Hosts: p.Hosts, Prefixes: p.Prefixes, Everything: p.Everything, Soft: p.SoftPurge,
		Cover: p.Cover.request(),
	}
}

// Empty reports whether the plan purges nothing at all.
func (p *Plan) Empty() bool {
	return p.CDN().Empty() && len(p.Keys) == 0 && len(p.KeySets) == 0
}

// normalize sorts and deduplicates every list and never leaves the JSON
// arrays null.
func (p *Plan) normalize() {
	for _, l := range []*[]string{&p.URLs, &p.Tags, &p.Hosts, &p.Prefixes, &p.Keys, &p.KeySets} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	if p.URLs == nil {
		p.URLs = []string{}
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Keys == nil {
		p.Keys = []string{}
	}
}

// request is the cover as the CDN side takes it; nil for no cover.
func (c *Cover) request() *purge.Cover {
	if c == nil {
		return nil
	}
	return &purge.Cover{Tags: c.Tags, Hosts: c.Hosts}
}
