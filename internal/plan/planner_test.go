package plan

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeRegistry is a plan.Registry with fixed answers; the Redis-backed one
// is tested in package registry and end to end in package app.
type fakeRegistry struct {
	hosts map[string][]string
	zones map[string]string
	err   error
}

func (f fakeRegistry) Lookup(_ context.Context, id string) ([]string, string, bool, error) {
	if f.err != nil {
		return nil, "", false, f.err
	}
	h, ok := f.hosts[id]
	return h, f.zones[id], ok, nil
}

// A registry entry's zone becomes an API path, a queue and a metric
// label: one that is not a plain zone name is refused (422), not used.
func TestRegistryZoneIsValidated(t *testing.T) {
	reg := fakeRegistry{
		hosts: map[string][]string{"good": {"good.example.com"}, "bad": {"bad.example.com"}},
		zones: map[string]string{"good": "023e105f4ecef8ad9ca31a8372d0c353", "bad": "../../accounts/x"},
	}
	p := newPlanner(t, twoHostConfig(), reg)
	got, err := p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "good"})
	if err != nil || got.Zone != "023e105f4ecef8ad9ca31a8372d0c353" {
		t.Errorf("good zone: %+v, %v", got, err)
	}
	_, err = p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "bad"})
	if !errors.Is(err, ErrBadRegistryEntry) || !strings.Contains(err.Error(), `invalid zone "../../accounts/x"`) {
		t.Errorf("bad zone: %v, want ErrBadRegistryEntry naming it", err)
	}
}

func twoHostConfig() Rules {
	return Rules{
		Zone:    "zone0",
		MaxURLs: 2000,
		Pages: map[string]config.PageRule{
			"p0": {
				Hosts:   []string{"{page_id}.status.example.com", "status.acme.test"},
				Tags:    []string{"page:{page_id}", "incident:{incident_id}", "component:{component_id}"},
				Keys:    []string{"statuspage:{page_id}:summary", "statuspage:{page_id}:incident:{incident_id}"},
				KeySets: []string{"statuspage:{page_id}:tagged"},
			},
		},
	}
}

func newPlanner(t *testing.T, cfg Rules, reg Registry) *Planner {
	t.Helper()
	p, err := New(cfg, reg, discard)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// urlsOn renders paths on both hosts of twoHostConfig, sorted.
func urlsOn(paths ...string) []string {
	var out []string
	for _, h := range []string{"p0.status.example.com", "status.acme.test"} {
		for _, p := range paths {
			out = append(out, "https://"+h+p)
		}
	}
	slices.Sort(out)
	return out
}

var common = []string{"/", "/history", "/history.rss", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json", "/embed/script.js", "/embed/frame"}

func TestPlanIncidentUpdate(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	got, err := p.Plan(context.Background(), event.Event{
		Type: event.IncidentUpdated, PageID: "p0", IncidentID: "inc1",
		URLs: []string{"https://p0.status.example.com/custom"}, Tags: []string{"custom-tag"}, Keys: []string{"statuspage:p0:custom"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := urlsOn(append(slices.Clone(common), "/incidents/inc1", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json")...)
	want = append(want, "https://p0.status.example.com/custom")
	slices.Sort(want)
	if !slices.Equal(got.URLs, want) {
		t.Errorf("URLs:\n got %q\nwant %q", got.URLs, want)
	}
	if w := []string{"custom-tag", "incident:inc1", "page:p0"}; !slices.Equal(got.Tags, w) {
		t.Errorf("Tags = %q, want %q", got.Tags, w)
	}
	if w := []string{"statuspage:p0:custom", "statuspage:p0:incident:inc1", "statuspage:p0:summary"}; !slices.Equal(got.Keys, w) {
		t.Errorf("Keys = %q, want %q", got.Keys, w)
	}
	if w := []string{"statuspage:p0:tagged"}; !slices.Equal(got.KeySets, w) {
		t.Errorf("KeySets = %q, want %q", got.KeySets, w)
	}
	if got.Zone != "zone0" || got.Page != "p0" {
		t.Errorf("zone, page = %q, %q", got.Zone, got.Page)
	}
}

func TestPlanComponentUpdateExpandsEachComponent(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	got, err := p.Plan(context.Background(), event.Event{Type: event.ComponentUpdated, PageID: "p0", ComponentIDs: []string{"c2", "c1", "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := urlsOn(append(slices.Clone(common), "/uptime", "/uptime/c1", "/uptime/c2", "/api/v2/components.json")...)
	if !slices.Equal(got.URLs, want) {
		t.Errorf("URLs:\n got %q\nwant %q", got.URLs, want)
	}
	if w := []string{"component:c1", "component:c2", "page:p0"}; !slices.Equal(got.Tags, w) {
		t.Errorf("Tags = %q, want %q (incident tag must be skipped without an incident)", got.Tags, w)
	}
}

func TestPlanMaintenanceTouchesMaintenanceFeedsOnly(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	got, err := p.Plan(context.Background(), event.Event{Type: event.MaintenanceStarted, PageID: "p0", IncidentID: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	want := urlsOn(append(slices.Clone(common), "/incidents/m1", "/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json")...)
	if !slices.Equal(got.URLs, want) {
		t.Errorf("URLs:\n got %q\nwant %q", got.URLs, want)
	}
	for _, u := range got.URLs {
		if strings.Contains(u, "unresolved") || strings.Contains(u, "uptime") {
			t.Errorf("maintenance plan has %q", u)
		}
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	ev := event.Event{Type: event.PageUpdated, PageID: "p0", IncidentID: "i", ComponentIDs: []string{"b", "a"}}
	a, _ := p.Plan(context.Background(), ev)
	b, _ := p.Plan(context.Background(), ev)
	if !slices.Equal(a.URLs, b.URLs) || !slices.IsSorted(a.URLs) {
		t.Fatalf("plans differ or unsorted")
	}
	// page.updated covers every group: 8 common + 3 incident + 3 more for
	// maintenance (/incidents/i is shared) + /uptime, /uptime/a, /uptime/b and
	// components.json = 18 paths, on 2 hosts.
	if len(a.URLs) != 2*18 {
		t.Errorf("page.updated gave %d URLs, want %d: %q", len(a.URLs), 2*18, a.URLs)
	}
}

func TestPlanPathOverride(t *testing.T) {
	cfg := twoHostConfig()
	pr := cfg.Pages["p0"]
	pr.Paths = &config.Paths{Common: []string{"/", "/x/{host}"}, Incident: []string{}}
	cfg.Pages["p0"] = pr
	p := newPlanner(t, cfg, nil)
	got, err := p.Plan(context.Background(), event.Event{Type: event.IncidentCreated, PageID: "p0", IncidentID: "i"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://p0.status.example.com/", "https://p0.status.example.com/x/p0.status.example.com",
		"https://status.acme.test/", "https://status.acme.test/x/status.acme.test",
	}
	if !slices.Equal(got.URLs, want) {
		t.Errorf("URLs = %q, want %q", got.URLs, want)
	}
}

func TestPlanDefaultRuleAndRegistry(t *testing.T) {
	cfg := Rules{
		Zone:     "z",
		MaxURLs:  2000,
		Defaults: &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}},
	}
	reg := fakeRegistry{hosts: map[string][]string{"reg1": {"status.custom.test", "reg1.status.example.com"}}}
	p := newPlanner(t, cfg, reg)

	got, err := p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "anypage"})
	if err != nil {
		t.Fatal(err)
	}
	if got.URLs[0] != "https://anypage.status.example.com/" || len(got.URLs) != 8+2 {
		t.Errorf("default rule URLs = %q", got.URLs)
	}
	got, err = p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "reg1"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.URLs, "https://status.custom.test/") || len(got.URLs) != 2*(8+2) {
		t.Errorf("registry URLs = %q", got.URLs)
	}

	// Registry down: the default rule still answers, with a warning, and
	// the plan says it may be incomplete (so it is never answered 2xx).
	p = newPlanner(t, cfg, fakeRegistry{err: errors.New("connection refused")})
	got, err = p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "reg1"})
	if err != nil || len(got.Warnings) != 1 || !got.Incomplete || got.URLs[0] != "https://reg1.status.example.com/" {
		t.Errorf("registry down: plan %+v, err %v", got, err)
	}
}

func TestPlanErrors(t *testing.T) {
	ctx := context.Background()
	noDefault := Rules{MaxURLs: 5, Pages: twoHostConfig().Pages}
	p := newPlanner(t, noDefault, nil)
	if _, err := p.Plan(ctx, event.Event{Type: event.IncidentUpdated, PageID: "nope"}); !errors.Is(err, ErrUnknownPage) {
		t.Errorf("unknown page: err = %v, want ErrUnknownPage", err)
	}
	var tooLarge *TooLargeError
	if _, err := p.Plan(ctx, event.Event{Type: event.IncidentUpdated, PageID: "p0"}); !errors.As(err, &tooLarge) || tooLarge.Max != 5 {
		t.Errorf("too large: err = %v", err)
	}
	p = newPlanner(t, noDefault, fakeRegistry{err: errors.New("down")})
	if _, err := p.Plan(ctx, event.Event{Type: event.IncidentUpdated, PageID: "nope"}); !errors.Is(err, ErrRegistryUnavailable) {
		t.Errorf("registry down, no default: err = %v", err)
	}
	// A page id that cannot make a hostname is the sender's error.
	withDefault := Rules{MaxURLs: 5000, Defaults: &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}}}
	p = newPlanner(t, withDefault, nil)
	var fe *event.FieldError
	if _, err := p.Plan(ctx, event.Event{Type: event.IncidentUpdated, PageID: "a_b"}); !errors.As(err, &fe) || fe.Field != "page_id" {
		t.Errorf("bad host from page id: err = %v", err)
	}
}

func TestNewRejectsBadTemplates(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule config.PageRule
		want string
	}{
		{"unknown var", config.PageRule{Hosts: []string{"{page}.x.test"}}, "unknown variable {page}"},
		{"unclosed", config.PageRule{Hosts: []string{"x.test"}, Tags: []string{"page:{page_id"}}, "unclosed"},
		{"host uses incident", config.PageRule{Hosts: []string{"{incident_id}.x.test"}}, "unknown variable {incident_id}"},
		{"path without slash", config.PageRule{Hosts: []string{"x.test"}, Paths: &config.Paths{Common: []string{"history"}}}, "must start with /"},
		{"bad scheme", config.PageRule{Hosts: []string{"x.test"}, Schemes: []string{"ftp"}}, "scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Rules{Pages: map[string]config.PageRule{"p": tc.rule}}, nil, discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPlanRefusesEdgepurgesOwnKeys(t *testing.T) {
	cfg := twoHostConfig()
	cfg.Reserved = []string{"edgepurge:seen:", "edgepurge:page:"}
	p := newPlanner(t, cfg, nil)
	for _, key := range []string{"edgepurge:seen:msg_1", "edgepurge:page:p0"} {
		_, err := p.Plan(context.Background(), event.Event{Type: event.PageUpdated, PageID: "p0", Keys: []string{key}})
		var fe *event.FieldError
		if !errors.As(err, &fe) || fe.Field != "keys" || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("key %q: err = %v", key, err)
		}
	}
	if _, err := p.Plan(context.Background(), event.Event{Type: event.PageUpdated, PageID: "p0", Keys: []string{"statuspage:p0:x"}}); err != nil {
		t.Errorf("an ordinary key: %v", err)
	}
}

// A page's cover is rendered beside its URLs; an event naming URLs of its
// own gets none (the cover might not reach them); a cover template that
// renders to a bad tag is refused at start.
func TestCover(t *testing.T) {
	cfg := twoHostConfig()
	p0 := cfg.Pages["p0"]
	p0.Cover = &config.Cover{Tags: []string{"page:{page_id}"}, Hosts: true}
	cfg.Pages["p0"] = p0
	p := newPlanner(t, cfg, nil)
	got, err := p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i1"})
	if err != nil || got.Cover == nil || !slices.Equal(got.Cover.Tags, []string{"page:p0"}) ||
		!slices.Equal(got.Cover.Hosts, []string{"p0.status.example.com", "status.acme.test"}) {
		t.Fatalf("cover %+v, %v", got.Cover, err)
	}
	if c := got.CDN().Cover; c == nil || c.Tags[0] != "page:p0" {
		t.Errorf("the CDN request lacks the cover: %+v", c)
	}
	got, err = p.Plan(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "p0", URLs: []string{"https://elsewhere.example.com/x"}})
	if err != nil || got.Cover != nil {
		t.Errorf("an event with URLs of its own got a cover: %+v, %v", got.Cover, err)
	}
	for tmpl, want := range map[string]string{
		"page {page_id}":                        "a tag with a space or a comma",
		"a,{page_id}":                           "a tag with a space or a comma",
		strings.Repeat("x", 1000) + "{page_id}": "over the CDNs' limit of 1024",
		"incident:{incident_id}":                "incident_id",
	} {
		bad := twoHostConfig()
		p0 := bad.Pages["p0"]
		p0.Cover = &config.Cover{Tags: []string{tmpl}}
		bad.Pages["p0"] = p0
		if _, err := New(bad, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cover %q: %v, want an error with %q", tmpl[:min(len(tmpl), 20)], err, want)
		}
	}
}

// A CDN that cannot purge everything (Akamai) has such a purge refused
// before anything is purged, naming it; others still plan it.
func TestPlanRefusesEverythingForACDNWithout(t *testing.T) {
	ev := event.Event{Everything: true}
	rules := twoHostConfig()
	if got, err := newPlanner(t, rules, nil).Plan(context.Background(), ev); err != nil || !got.Everything {
		t.Errorf("without akamai: %+v, %v", got, err)
	}
	rules.NoEverything = "akamai"
	_, err := newPlanner(t, rules, nil).Plan(context.Background(), ev)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "akamai cannot purge everything") {
		t.Errorf("with akamai: %v, want ErrUnsupported naming it", err)
	}
}
