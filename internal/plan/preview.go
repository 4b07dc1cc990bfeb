package plan

import (
	"context"
	"fmt"
	"slices"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/purge"
)

// Where a page's hostnames come from, in the order they are looked for.
const (
	SourceConfig   = "config"   // pages.<id> of the config file
	SourceRegistry = "registry" // the page registry in Redis
	SourceDefault  = "default"  // the default rule (defaults)
)

// Fixed is a Registry that answers one entry for every page: what a
// registry write would store, planned before it is stored, or an entry
// just read from Redis past the look-up cache.
type Fixed struct {
	Hosts []string
	Zone  string
	// Options are the entry's options as stored (Options.Encode).
	Options string
	// Found false answers every page as not registered.
	Found bool
}

// Lookup implements Registry.
func (f Fixed) Lookup(context.Context, string) ([]string, string, bool, error) {
	return f.Hosts, f.Zone, f.Found, nil
}

// LookupOptions implements OptionsRegistry.
func (f Fixed) LookupOptions(context.Context, string) ([]string, string, string, bool, error) {
	return f.Hosts, f.Zone, f.Options, f.Found, nil
}

// Resolved is a page as planning found it.
type Resolved struct {
	// Source says where its hostnames came from (Source*).
	Source string
	Hosts  []string
	// Zone is the page's own zone ("" for the configured default).
	Zone string
}

// Preview is Plan with reg in place of the planner's registry (nil: none),
// and says where the page's hostnames came from (zero for an event without
// a page). The pages API uses it to show the plan an incident update would
// make, and to refuse an entry planning would refuse.
func (p *Planner) Preview(ctx context.Context, ev event.Event, reg Registry) (Plan, Resolved, error) {
	out, pg, err := p.plan(ctx, ev, reg)
	return out, Resolved{Source: pg.source, Hosts: pg.hosts, Zone: pg.zone}, err
}

// Configured reports whether pageID is one of the config's pages, whose
// rule takes precedence over any registry entry.
func (p *Planner) Configured(pageID string) bool {
	_, ok := p.pages[pageID]
	return ok
}

// ConfiguredPage is a page of the config, its hostnames rendered.
type ConfiguredPage struct {
	ID    string
	Hosts []string
	Zone  string
}

// ConfiguredPages are the config's pages, by id.
func (p *Planner) ConfiguredPages() []ConfiguredPage {
	out := make([]ConfiguredPage, 0, len(p.pages))
	for id, r := range p.pages {
		hosts, _ := renderHosts(r, id)
		out = append(out, ConfiguredPage{ID: id, Hosts: hosts, Zone: r.zone})
	}
	slices.SortFunc(out, func(a, b ConfiguredPage) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// CheckEntry checks a registry entry's hostnames and zone as planning
// checks them when it reads the entry (see ErrBadRegistryEntry): every
// host a DNS hostname, the zone, when set, a valid zone name. The error is
// an *event.FieldError naming hosts[i] or zone. hosts are expected
// normalized (registry.NormalizeHosts).
func CheckEntry(hosts []string, zone string) error {
	for i, h := range hosts {
		if !validHostname(h) {
			return &event.FieldError{Field: fmt.Sprintf("hosts[%d]", i), Reason: fmt.Sprintf("%q is not a hostname: letters, digits and hyphens in dot-separated labels of at most 63, 253 in all", clip(h))}
		}
	}
	if zone != "" && !purge.ValidZone(zone) {
		return &event.FieldError{Field: "zone", Reason: fmt.Sprintf("%q: %s", clip(zone), purge.ZoneRule)}
	}
	return nil
}

// clip bounds an echoed value.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
