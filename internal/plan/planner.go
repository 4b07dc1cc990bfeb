package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/purge"
)

// ErrUnknownPage means the page is in neither the config nor the registry,
// and there is no default rule: there is nothing to purge (422).
var ErrUnknownPage = errors.New("unknown page and no default rule")

// ErrRegistryUnavailable means the page could only have come from the
// registry, and the registry could not be read: the caller should retry (503).
var ErrRegistryUnavailable = errors.New("page registry unavailable")

// ErrUnsupported means a configured CDN cannot purge what the request asks
// (422): refused before anything is purged, rather than done on some CDNs
// and silently not on another.
var ErrUnsupported = errors.New("not supported")

// ErrBadRegistryEntry means the page's registry entry names an invalid
// host or zone: nothing is purged from it (422) until the core app fixes
// it.
var ErrBadRegistryEntry = errors.New("invalid page registry entry")

// TooLargeError is a plan over the configured ceiling (422): refusing it
// beats starting a purge storm.
type TooLargeError struct {
	URLs, Max int
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("plan has %d URLs, more than the limit of %d", e.URLs, e.Max)
}

// Registry looks a page up in the registry the core app writes. found is
// false when the page is not registered; err is set only when the registry
// could not be read.
type Registry interface {
	Lookup(ctx context.Context, pageID string) (hosts []string, zone string, found bool, err error)
}

// Rules are what a Planner plans from: the page rules, and what the
// configured CDNs need of a plan, as plain values (internal/app builds
// them from the config).
type Rules struct {
	// Pages are the pages known by id.
	Pages map[string]config.PageRule
	// Defaults is the rule of the pages neither Pages nor the registry
	// has; nil: none, such a page is unknown.
	Defaults *config.PageRule
	// Zone is the zone of the pages whose rule and registry entry name
	// none.
	Zone string
	// MaxURLs is the largest plan accepted; more is a *TooLargeError.
	MaxURLs int
	// Reserved are the Redis key prefixes of edgepurge's own state: no
	// plan may unlink a key under them.
	Reserved []string
	// SoftPurge is the pages' soft purge when their rule does not say.
	SoftPurge bool
	// NoHostPurges names a configured CDN that cannot purge hosts or
	// prefixes (Fastly), so that such a purge is refused, not half done;
	// empty when every CDN can.
	NoHostPurges string
	// NoEverything names a configured CDN that cannot purge everything
	// (Akamai, which purges a whole property only by CP code), so that
	// such a purge is refused, not done on the other CDNs only; empty
	// when every CDN can.
	NoEverything string
	// NoTagPurges names a configured CDN that has no cache tags
	// (CloudFront), so that a plan with tags is refused, not half done.
	NoTagPurges string
	// HostPurge, when set, says why a configured CDN cannot purge a
	// whole host (CloudFront: its distribution serves other hosts too),
	// nil when it can.
	HostPurge func(host string) error
}

// Planner computes plans. It is safe for concurrent use.
type Planner struct {
	rules    Rules
	pages    map[string]*rule
	defaults *rule // nil: no default rule
	builtin  *rule // templates for registry pages when there is no default rule
	registry Registry
	log      *slog.Logger
	// options are the compiled rules of registry entries with options.
	options optionRules
}

// New compiles the page rules. reg may be nil (no registry).
func New(rules Rules, reg Registry, log *slog.Logger) (*Planner, error) {
	p := &Planner{
		rules:    rules,
		pages:    make(map[string]*rule, len(rules.Pages)),
		registry: reg,
		log:      log,
	}
	for id, pr := range rules.Pages {
		if err := event.ValidateID("pages", id); err != nil {
			return nil, fmt.Errorf("page %q: invalid id: %w", id, err)
		}
		r, err := compileRule("pages."+id, pr)
		if err != nil {
			return nil, err
		}
		p.pages[id] = r
	}
	var err error
	if rules.Defaults != nil {
		if p.defaults, err = compileRule("defaults", *rules.Defaults); err != nil {
			return nil, err
		}
	}
	if p.builtin, err = compileRule("builtin", config.PageRule{}); err != nil {
		return nil, err
	}
	return p, nil
}

// page is a resolved page: its hostnames and the rule giving its templates.
type page struct {
	hosts []string
	zone  string
	rule  *rule
	// source says where the hosts came from (SourceConfig, ...).
	source string
}

// resolve finds the page: config first, then the registry (reg, which may
// be nil), then the default rule.
func (p *Planner) resolve(ctx context.Context, pageID string, reg Registry) (page, []string, error) {
	if r, ok := p.pages[pageID]; ok {
		hosts, err := renderHosts(r, pageID)
		return page{hosts: hosts, zone: r.zone, rule: r, source: SourceConfig}, nil, err
	}
	var warnings []string
	if reg != nil {
		var (
			hosts         []string
			zone, options string
			found         bool
			err           error
		)
		if or, ok := reg.(OptionsRegistry); ok {
			hosts, zone, options, found, err = or.LookupOptions(ctx, pageID)
		} else {
			hosts, zone, found, err = reg.Lookup(ctx, pageID)
		}
		switch {
		case err != nil && p.defaults == nil:
			return page{}, nil, fmt.Errorf("%w: %v", ErrRegistryUnavailable, err)
		case err != nil:
			p.log.Warn("page registry unavailable, using the default rule", "page", pageID, "err", err)
			warnings = append(warnings, "page registry unavailable: hosts from the default rule only")
		case found:
			r := p.defaults
			if r == nil {
				r = p.builtin
			}
			if options != "" {
				if r, err = p.optionRule(options); err != nil {
					return page{}, nil, fmt.Errorf("%w: page %q: %v", ErrBadRegistryEntry, pageID, err)
				}
			}
			for _, h := range hosts {
				if !validHostname(h) {
					return page{}, nil, fmt.Errorf("%w: page %q: invalid host %q", ErrBadRegistryEntry, pageID, h)
				}
			}
			if zone == "" {
				zone = r.zone
			} else if !purge.ValidZone(zone) {
				return page{}, nil, fmt.Errorf("%w: page %q: invalid zone %q: %s", ErrBadRegistryEntry, pageID, zone, purge.ZoneRule)
			}
			return page{hosts: hosts, zone: zone, rule: r, source: SourceRegistry}, nil, nil
		}
	}
	if p.defaults == nil {
		return page{}, nil, ErrUnknownPage
	}
	hosts, err := renderHosts(p.defaults, pageID)
	return page{hosts: hosts, zone: p.defaults.zone, rule: p.defaults, source: SourceDefault}, warnings, err
}

func renderHosts(r *rule, pageID string) ([]string, error) {
	hosts := make([]string, 0, len(r.hosts))
	for _, t := range r.hosts {
		h, _ := t.Render(Vars{PageID: pageID})
		h = strings.ToLower(h)
		if !validHostname(h) {
			return nil, &event.FieldError{Field: "page_id", Reason: fmt.Sprintf("host template %q gives the invalid hostname %q", t.raw, h)}
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// Plan computes what ev purges. Errors: ErrUnknownPage,
// ErrRegistryUnavailable, *TooLargeError, *event.FieldError.
func (p *Planner) Plan(ctx context.Context, ev event.Event) (Plan, error) {
	out, _, err := p.plan(ctx, ev, p.registry)
	return out, err
}

// plan is Plan with the registry reg, also answering the page as resolved
// (zero for an event without a page).
func (p *Planner) plan(ctx context.Context, ev event.Event, reg Registry) (Plan, page, error) {
	out := Plan{Page: ev.PageID, Zone: p.rules.Zone, SoftPurge: p.rules.SoftPurge}
	var resolved page
	if ev.PageID != "" {
		pg, warnings, err := p.resolve(ctx, ev.PageID, reg)
		if err != nil {
			return Plan{}, page{}, err
		}
		resolved = pg
		out.Warnings = warnings
		out.Incomplete = len(warnings) > 0
		out.CDNOrder, out.EdgeCheck = pg.rule.cdnOrder, pg.rule.edgeCheck
		if pg.rule.soft != nil {
			out.SoftPurge = *pg.rule.soft
		}
		if pg.zone != "" {
			out.Zone = pg.zone
		}
		p.derive(&out, &pg, &ev)
		if len(ev.URLs) == 0 && (len(pg.rule.coverTags) > 0 || pg.rule.coverHosts) {
			out.Cover = coverOf(&pg, ev.PageID)
		}
	}
	out.URLs = append(out.URLs, ev.URLs...)
	out.Tags = append(out.Tags, ev.Tags...)
	out.Keys = append(out.Keys, ev.Keys...)
	out.Hosts = append(out.Hosts, ev.Hosts...)
	out.Prefixes = append(out.Prefixes, ev.Prefixes...)
	out.Everything = ev.Everything
	out.normalize()
	if err := p.checkKeys(&out); err != nil {
		return Plan{}, page{}, err
	}
	if len(out.URLs) > p.rules.MaxURLs {
		return Plan{}, page{}, &TooLargeError{URLs: len(out.URLs), Max: p.rules.MaxURLs}
	}
	if p.rules.NoHostPurges != "" && (len(out.Hosts) > 0 || len(out.Prefixes) > 0) {
		return Plan{}, page{}, fmt.Errorf("%w: %s cannot purge by hostname or prefix; purge the page's URLs, or a surrogate key (tag) your VCL sets per host", ErrUnsupported, p.rules.NoHostPurges)
	}
	if p.rules.NoEverything != "" && out.Everything {
		return Plan{}, page{}, fmt.Errorf("%w: %s cannot purge everything (only by CP code, which edgepurge does not map); purge the page's URLs and tags, or a cache tag every object carries", ErrUnsupported, p.rules.NoEverything)
	}
	if p.rules.NoTagPurges != "" && len(out.Tags) > 0 {
		return Plan{}, page{}, fmt.Errorf("%w: %s has no cache tags, it cannot purge tags %s; purge the URLs (or a prefix) instead", ErrUnsupported, p.rules.NoTagPurges, strings.Join(out.Tags, ", "))
	}
	if p.rules.HostPurge != nil {
		for _, h := range out.Hosts {
			if err := p.rules.HostPurge(h); err != nil {
				return Plan{}, page{}, fmt.Errorf("%w: %v", ErrUnsupported, err)
			}
		}
	}
	return out, resolved, nil
}

// coverOf renders the page's cover.
func coverOf(pg *page, pageID string) *Cover {
	c := &Cover{}
	for _, t := range pg.rule.coverTags {
		if s, ok := t.Render(Vars{PageID: pageID}); ok {
			c.Tags = append(c.Tags, s)
		}
	}
	if pg.rule.coverHosts {
		c.Hosts = slices.Clone(pg.hosts)
	}
	return c
}

// groupsFor narrows the page's paths to what the event can have changed:
// gs[:n].
func groupsFor(ev *event.Event) (gs [groupCount]group, n int) {
	gs[n] = groupCommon
	n++
	all := ev.Type == event.PageUpdated
	if all || ev.Type.IsIncident() || (ev.IncidentID != "" && !ev.Type.IsMaintenance()) {
		gs[n] = groupIncident
		n++
	}
	if all || ev.Type.IsMaintenance() {
		gs[n] = groupMaintenance
		n++
	}
	if all || ev.Type == event.ComponentUpdated || len(ev.ComponentIDs) > 0 {
		gs[n] = groupComponent
		n++
	}
	return gs, n
}

// derive adds the page's URLs, tags and keys for ev to out. The URLs are
// written into one builder and are substrings of what it holds: one
// allocation for all of them (a builder never changes what it wrote).
func (p *Planner) derive(out *Plan, pg *page, ev *event.Event) {
	base := Vars{PageID: ev.PageID, IncidentID: ev.IncidentID}
	gs, n := groupsFor(ev)
	urls, hostLen := 0, 0
	for _, g := range gs[:n] {
		urls += len(pg.rule.paths[g])
	}
	for _, h := range pg.hosts {
		hostLen = max(hostLen, len(h))
	}
	urls *= len(pg.hosts) * len(pg.rule.schemes)
	var b strings.Builder
	b.Grow(urls * (hostLen + 48))
	out.URLs = slices.Grow(out.URLs, urls+len(ev.URLs))
	emit := func(t *Template, v Vars) {
		for _, scheme := range pg.rule.schemes {
			start := b.Len()
			b.WriteString(scheme)
			b.WriteString("://")
			b.WriteString(v.Host)
			if t.writeTo(&b, v) {
				out.URLs = append(out.URLs, b.String()[start:])
			}
		}
	}
	for _, g := range gs[:n] {
		for i := range pg.rule.paths[g] {
			t := &pg.rule.paths[g][i]
			for _, host := range pg.hosts {
				v := base
				v.Host = host
				if !t.perComponent {
					emit(t, v)
					continue
				}
				for _, c := range ev.ComponentIDs {
					v.ComponentID = c
					emit(t, v)
				}
			}
		}
	}
	for i := range pg.rule.tags {
		out.Tags = appendEach(out.Tags, &pg.rule.tags[i], base, ev.ComponentIDs)
	}
	for i := range pg.rule.keys {
		out.Keys = appendEach(out.Keys, &pg.rule.keys[i], base, ev.ComponentIDs)
	}
	for i := range pg.rule.keySets {
		out.KeySets = appendEach(out.KeySets, &pg.rule.keySets[i], base, ev.ComponentIDs)
	}
}

// appendEach appends t rendered once, or once per component when it uses
// {component_id}. A template whose variables the event lacks gives nothing.
func appendEach(dst []string, t *Template, v Vars, components []string) []string {
	if !t.perComponent {
		if s, ok := t.Render(v); ok {
			dst = append(dst, s)
		}
		return dst
	}
	for _, c := range components {
		v.ComponentID = c
		if s, ok := t.Render(v); ok {
			dst = append(dst, s)
		}
	}
	return dst
}

// validHostname reports whether h is a DNS hostname (letters, digits and
// hyphens in dot-separated labels), so nothing can be smuggled into a URL.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for rest := h; ; {
		label, after, more := strings.Cut(rest, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
		if !more {
			return true
		}
		rest = after
	}
}

// checkKeys refuses a plan that would unlink edgepurge's own state.
func (p *Planner) checkKeys(out *Plan) error {
	for _, list := range []struct {
		field string
		keys  []string
	}{{"keys", out.Keys}, {"key_sets", out.KeySets}} {
		for _, k := range list.keys {
			for _, r := range p.rules.Reserved {
				if strings.HasPrefix(k, r) {
					return &event.FieldError{Field: list.field, Reason: fmt.Sprintf("key %q is reserved for edgepurge's own state (prefix %q)", k, r)}
				}
			}
		}
	}
	return nil
}
