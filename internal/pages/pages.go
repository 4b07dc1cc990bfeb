// Package pages is the pages API's logic: a page's registry entry read,
// written, deleted and listed, every write checked as planning will use it
// before anything is stored, versioned (ETags) so that two writers cannot
// silently overwrite each other, recorded in the audit trail and counted.
// The registry's Redis hashes stay the storage (package registry), so
// entries the core app wrote directly keep working.
package pages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/registry"
)

// Limits of a write.
const (
	// MaxHosts is the most hostnames one page may have: each multiplies
	// the URLs of every purge of the page.
	MaxHosts = 100
	// MaxBulk is the most entries of one bulk write.
	MaxBulk = 500
)

// trailTimeout bounds the writing of a change's audit records.
const trailTimeout = 2 * time.Second

// Config is what a Service needs.
type Config struct {
	// Registry is where entries are stored; nil when registry.disabled.
	Registry *registry.Registry
	// Planner checks entries and makes the plans shown.
	Planner *plan.Planner
	// Zones are the CDN zones (Cloudflare zones, the zones fastly.services
	// maps) that an entry may name.
	Zones []string
	// Trail records every change; nil when the audit trail is off.
	Trail   *audit.PageTrail
	Metrics *metrics.Pages
	Log     *slog.Logger
	Now     func() time.Time
	// OnChange, when set, is told the pages a write changed (this
	// process's look-up cache forgets them).
	OnChange func(pageIDs ...string)
}

// Service reads and writes page entries.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// Entry is a page as the API shows it.
type Entry struct {
	ID string `json:"id"`
	// Source is where the hostnames come from: config, registry or default.
	Source string   `json:"source"`
	Hosts  []string `json:"hosts"`
	// Zone is the page's CDN zone; empty for the configured default.
	Zone string `json:"zone,omitempty"`
	// Options are the registry entry's page options (registry only).
	plan.Options `json:",inline"`
	// ETag and Version are the registry entry's (registry only).
	ETag    string `json:"etag,omitempty"`
	Version int64  `json:"version,omitempty"`
	// Problem says why planning refuses the entry (a 422 for its events)
	// until it is written again.
	Problem string `json:"problem,omitempty"`
}

// View is one page with the plan an incident update would make.
type View struct {
	Entry
	// Plan is what an incident.updated event for the page would purge;
	// nil when planning refuses it (see PlanError).
	Plan      *plan.Plan `json:"plan,omitempty"`
	PlanError string     `json:"plan_error,omitempty"`
	// Changes are the entry's last changes through the API, newest first.
	Changes []audit.PageChange `json:"changes,omitempty"`
}

// Write is one entry to write: hosts and zone, or a delete.
type Write struct {
	ID    string   `json:"id"`
	Hosts []string `json:"hosts"`
	Zone  string   `json:"zone"`
	// Options are the page's options (schemes, paths, tags, keys,
	// key_sets, cdn_order, soft_purge, cover); left out, the default
	// rule's.
	plan.Options `json:",inline"`
	// IfMatch is the ETag the entry must have ("*": any existing entry);
	// empty writes whatever the entry is.
	IfMatch string `json:"if_match"`
	// Delete removes the entry (bulk writes only; hosts and zone unset).
	Delete bool `json:"delete"`
}

// Result is what one Write did.
type Result struct {
	ID string `json:"id"`
	// Result is created, updated, unchanged, deleted or absent.
	Result string   `json:"result"`
	ETag   string   `json:"etag,omitempty"`
	Hosts  []string `json:"hosts,omitempty"`
	Zone   string   `json:"zone,omitempty"`
	// Options are the page options written.
	plan.Options `json:",inline"`
}

// Errors of the Service, which the server answers by kind.
var (
	// ErrNotFound: no such page (404).
	ErrNotFound = errors.New("not found")
	// ErrDisabled: the registry is off, so nothing can be written (409).
	ErrDisabled = errors.New("the page registry is disabled (registry.disabled): pages come from the config file only")
)

// InvalidError is a write refused for a value (422): it names the field.
type InvalidError struct{ *event.FieldError }

// ConfiguredError is a write to a page of the config file, whose rule
// takes precedence over the registry, so the entry would be ignored (409).
type ConfiguredError struct {
	Field, ID string
}

// Error implements error.
func (e *ConfiguredError) Error() string {
	return fmt.Sprintf("field %q: page %q is configured in the config file (pages.%s), which takes precedence over the registry: change it there", e.Field, e.ID, e.ID)
}

// Get answers pageID's entry, from wherever planning finds it, and the
// plan an incident.updated event for it (of incidentID, or the template
// {incident_id} when empty) would make. The registry is read afresh, not
// through the look-up cache.
func (s *Service) Get(ctx context.Context, pageID, incidentID string) (View, error) {
	if err := event.ValidateID("page_id", pageID); err != nil {
		return View{}, err
	}
	if incidentID == "" {
		incidentID = "{incident_id}"
	} else if err := event.ValidateID("incident_id", incidentID); err != nil {
		return View{}, err
	}
	var (
		entry registry.Entry
		found bool
	)
	if s.cfg.Registry != nil && !s.cfg.Planner.Configured(pageID) {
		var err error
		if entry, found, err = s.cfg.Registry.Get(ctx, pageID); err != nil {
			return View{}, err
		}
	}
	reg := plan.Fixed{Hosts: entry.Hosts, Zone: entry.Zone, Options: entry.Options, Found: found && len(entry.Hosts) > 0}
	ev := event.Event{Type: event.IncidentUpdated, PageID: pageID, IncidentID: incidentID}
	p, res, err := s.cfg.Planner.Preview(ctx, ev, reg)
	v := View{Entry: Entry{ID: pageID, Source: res.Source, Hosts: res.Hosts, Zone: res.Zone}}
	switch {
	case err == nil:
		v.Plan = &p
	case errors.Is(err, plan.ErrUnknownPage) && !found:
		return View{}, fmt.Errorf("page %q is in neither the config nor the registry, and there is no default rule: %w", pageID, ErrNotFound)
	default:
		v.PlanError = err.Error()
	}
	if found {
		v.Source, v.Hosts, v.Zone = plan.SourceRegistry, entry.Hosts, entry.Zone
		v.ETag, v.Version = entry.ETag, entry.Version
		v.Options, v.Problem = s.entryProblem(entry)
		if v.Problem == "" && len(entry.Hosts) == 0 {
			v.Problem = "the entry lists no hostname: planning ignores it"
		}
	}
	if v.Hosts == nil {
		v.Hosts = []string{}
	}
	if s.cfg.Trail != nil {
		changes, err := s.cfg.Trail.List(ctx, pageID, 10)
		if err != nil {
			s.cfg.Log.Warn("page changes unreadable", "page", pageID, "err", err)
		}
		v.Changes = changes
	}
	return v, nil
}

// Put writes the entries of ws, all or none: each is checked first, then
// the registry is written in one atomic step (see registry.Apply). bulk
// says ws came as a bulk write (at most MaxBulk; the fields named in
// errors are then "pages[3].hosts[0]"). actor names the credential, for
// the audit trail; requestID is the request's id. The warnings say what
// went wrong after the change was made (the audit trail unwritten).
func (s *Service) Put(ctx context.Context, ws []Write, bulk bool, actor, requestID string) ([]Result, []string, error) {
	if s.cfg.Registry == nil {
		s.refused("disabled")
		return nil, nil, ErrDisabled
	}
	if bulk && len(ws) > MaxBulk {
		s.refused("invalid")
		return nil, nil, &InvalidError{&event.FieldError{Field: "pages", Reason: fmt.Sprintf("%d entries, more than the limit of %d a request: send them in several requests", len(ws), MaxBulk)}}
	}
	changes := make([]registry.Change, len(ws))
	seen := make(map[string]int, len(ws))
	for i, w := range ws {
		prefix := ""
		if bulk {
			prefix = fmt.Sprintf("pages[%d].", i)
		}
		c, err := s.check(ctx, w, prefix)
		if err != nil {
			return nil, nil, err
		}
		if j, dup := seen[w.ID]; dup {
			s.refused("invalid")
			return nil, nil, &InvalidError{&event.FieldError{Field: prefix + "id", Reason: fmt.Sprintf("page %q is also pages[%d]: one entry a page per request", w.ID, j)}}
		}
		seen[w.ID] = i
		changes[i] = c
	}
	outcomes, err := s.cfg.Registry.Apply(ctx, changes)
	if err != nil {
		var conflict *registry.ConflictError
		if errors.As(err, &conflict) {
			s.refused("conflict")
			return nil, nil, err
		}
		s.refused("error")
		return nil, nil, err
	}
	if s.cfg.OnChange != nil {
		ids := make([]string, len(outcomes))
		for i, o := range outcomes {
			ids[i] = o.ID
		}
		s.cfg.OnChange(ids...)
	}
	now := s.cfg.Now().UTC()
	results := make([]Result, len(outcomes))
	var records []audit.PageChange
	for i, o := range outcomes {
		c := changes[i]
		r := Result{ID: o.ID, Result: o.Result, ETag: o.ETag}
		op := "set"
		if c.Delete {
			op = "delete"
		} else {
			r.Hosts, r.Zone, r.Options = registry.NormalizeHosts(c.Page.Hosts), strings.TrimSpace(c.Page.Zone), ws[i].Options
		}
		results[i] = r
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Changes.WithLabelValues(op, o.Result).Inc()
		}
		if o.Result == registry.ResultUnchanged || o.Result == registry.ResultAbsent {
			continue
		}
		rec := audit.PageChange{Time: now, Actor: actor, Page: o.ID, Result: o.Result, ETag: o.ETag, RequestID: requestID}
		if o.Before.Hosts != nil {
			rec.Before = &audit.PageState{Hosts: o.Before.Hosts, Zone: o.Before.Zone, Options: rawJSON(o.Before.Options)}
		}
		if !c.Delete {
			rec.After = &audit.PageState{Hosts: r.Hosts, Zone: r.Zone, Options: rawJSON(c.Page.Options)}
		}
		records = append(records, rec)
		s.cfg.Log.Info("page changed", "page", o.ID, "result", o.Result, "actor", actor, "hosts", len(r.Hosts), "request_id", requestID)
	}
	var warnings []string
	if s.cfg.Trail != nil {
		// The change is made: its record gets time of its own even if the
		// request's deadline is nearly spent.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), trailTimeout)
		defer cancel()
		if err := s.cfg.Trail.Write(tctx, records); err != nil {
			s.cfg.Log.Error("page changes made but not in the audit trail", "changes", len(records), "actor", actor, "request_id", requestID, "err", err)
			warnings = append(warnings, "the change is made, but the audit trail could not be written: "+err.Error())
		}
	}
	return results, warnings, nil
}

// check checks w as planning will use it, and makes its change.
func (s *Service) check(ctx context.Context, w Write, prefix string) (registry.Change, error) {
	invalid := func(field, reason string) error {
		s.refused("invalid")
		return &InvalidError{&event.FieldError{Field: prefix + field, Reason: reason}}
	}
	if err := event.ValidateID(prefix+"id", w.ID); err != nil {
		s.refused("invalid")
		var fe *event.FieldError
		if errors.As(err, &fe) {
			return registry.Change{}, &InvalidError{fe}
		}
		return registry.Change{}, err
	}
	if s.cfg.Planner.Configured(w.ID) {
		s.refused("configured")
		return registry.Change{}, &ConfiguredError{Field: prefix + "id", ID: w.ID}
	}
	ifMatch := strings.Trim(strings.TrimSpace(w.IfMatch), `"`)
	if w.Delete {
		if len(w.Hosts) > 0 || w.Zone != "" || !w.Options.IsZero() {
			return registry.Change{}, invalid("delete", "a delete takes no hosts, zone or options")
		}
		return registry.Change{Page: registry.Page{ID: w.ID}, Delete: true, IfMatch: ifMatch}, nil
	}
	if len(w.Hosts) == 0 {
		return registry.Change{}, invalid("hosts", "required: the page's hostnames, at least one (to remove the page, delete it)")
	}
	if len(w.Hosts) > MaxHosts {
		return registry.Change{}, invalid("hosts", fmt.Sprintf("%d hostnames, more than the limit of %d a page", len(w.Hosts), MaxHosts))
	}
	hosts := make([]string, len(w.Hosts))
	for i, h := range w.Hosts {
		hosts[i] = strings.ToLower(strings.TrimSpace(h))
	}
	zone := strings.TrimSpace(w.Zone)
	if err := plan.CheckEntry(hosts, zone); err != nil {
		var fe *event.FieldError
		if errors.As(err, &fe) {
			return registry.Change{}, invalid(fe.Field, fe.Reason)
		}
		return registry.Change{}, invalid("hosts", err.Error())
	}
	if zone != "" && !slices.Contains(s.cfg.Zones, zone) {
		return registry.Change{}, invalid("zone", s.unknownZone(zone))
	}
	if err := s.cfg.Planner.CheckOptions(w.Options); err != nil {
		field, reason, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			field, reason = "options", err.Error()
		}
		return registry.Change{}, invalid(field, reason)
	}
	options := w.Options.Encode()
	hosts = registry.NormalizeHosts(hosts)
	// The plan of an event touching every path group: the entry must give
	// one planning accepts (limits.max_plan_urls).
	ev := event.Event{Type: event.PageUpdated, PageID: w.ID, IncidentID: "i"}
	if _, _, err := s.cfg.Planner.Preview(ctx, ev, plan.Fixed{Hosts: hosts, Zone: zone, Options: options, Found: true}); err != nil {
		var tl *plan.TooLargeError
		if errors.As(err, &tl) {
			return registry.Change{}, invalid("hosts", fmt.Sprintf("%d hostnames give a plan of %d URLs, more than limits.max_plan_urls (%d): fewer hostnames, or raise the limit", len(hosts), tl.URLs, tl.Max))
		}
		return registry.Change{}, invalid("hosts", "planning refuses the entry: "+err.Error())
	}
	return registry.Change{Page: registry.Page{ID: w.ID, Hosts: hosts, Zone: zone, Options: options}, IfMatch: ifMatch}, nil
}

// unknownZone says which zones the config has.
func (s *Service) unknownZone(zone string) string {
	if len(s.cfg.Zones) == 0 {
		return fmt.Sprintf("%q: no CDN zone is configured, so a page cannot name one: leave zone out (the default zone), or configure it (cloudflare.zones, fastly.services)", zone)
	}
	names := s.cfg.Zones
	more := ""
	if len(names) > 10 {
		names, more = names[:10], fmt.Sprintf(" and %d more", len(s.cfg.Zones)-10)
	}
	return fmt.Sprintf("%q is not a zone of this configuration (cloudflare.zone_id, cloudflare.zones, pages.*.zone, fastly.services): want one of %s%s, or leave zone out for the default", zone, strings.Join(names, ", "), more)
}

func (s *Service) refused(reason string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Refused.WithLabelValues(reason).Inc()
	}
}

// List answers the pages from cursor on (see registry.List), those with
// the hostname host only when it is set. The first call (no cursor) starts
// with the config's pages.
func (s *Service) List(ctx context.Context, cursor string, limit int, host string) ([]Entry, string, error) {
	host = strings.ToLower(strings.TrimSpace(host))
	out := []Entry{}
	if cursor == "" {
		for _, p := range s.cfg.Planner.ConfiguredPages() {
			if host == "" || slices.Contains(p.Hosts, host) {
				out = append(out, Entry{ID: p.ID, Source: plan.SourceConfig, Hosts: p.Hosts, Zone: p.Zone})
			}
		}
	}
	if s.cfg.Registry == nil {
		return out, "", nil
	}
	var match func(registry.Entry) bool
	if host != "" {
		match = func(e registry.Entry) bool { return slices.Contains(e.Hosts, host) }
	}
	entries, next, err := s.cfg.Registry.List(ctx, cursor, limit, match)
	if err != nil {
		return nil, "", err
	}
	for _, e := range entries {
		en := Entry{ID: e.ID, Source: plan.SourceRegistry, Hosts: e.Hosts, Zone: e.Zone, ETag: e.ETag, Version: e.Version}
		if en.Hosts == nil {
			en.Hosts = []string{}
		}
		en.Options, en.Problem = s.entryProblem(e)
		if s.cfg.Planner.Configured(e.ID) {
			en.Problem = fmt.Sprintf("ignored: pages.%s of the config file takes precedence", e.ID)
		}
		out = append(out, en)
	}
	return out, next, nil
}

// entryProblem decodes a stored entry's options and says why planning
// refuses the entry ("" when it does not).
func (s *Service) entryProblem(e registry.Entry) (plan.Options, string) {
	if err := plan.CheckEntry(e.Hosts, e.Zone); err != nil {
		return plan.Options{}, err.Error()
	}
	o, err := plan.DecodeOptions(e.Options)
	if err != nil {
		return plan.Options{}, err.Error()
	}
	if err := s.cfg.Planner.CheckOptions(o); err != nil {
		return o, "options: " + err.Error()
	}
	return o, ""
}

// rawJSON is stored options as JSON for a record; nil for none.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
