package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
)

func TestPreviewSaysWhereThePageComesFrom(t *testing.T) {
	rules := twoHostConfig()
	rules.Defaults = &config.PageRule{Hosts: []string{"{page_id}.default.example.com"}}
	p := newPlanner(t, rules, fakeRegistry{})
	ctx := context.Background()
	ev := func(id string) event.Event {
		return event.Event{Type: event.IncidentUpdated, PageID: id, IncidentID: "i1"}
	}

	_, res, err := p.Preview(ctx, ev("p0"), Fixed{Hosts: []string{"ignored.example.com"}, Found: true})
	if err != nil || res.Source != SourceConfig || !slices.Equal(res.Hosts, []string{"p0.status.example.com", "status.acme.test"}) {
		t.Errorf("config page: %+v %v", res, err)
	}
	pl, res, err := p.Preview(ctx, ev("r1"), Fixed{Hosts: []string{"r1.custom.test"}, Zone: "z9", Found: true})
	if err != nil || res.Source != SourceRegistry || res.Zone != "z9" || pl.Zone != "z9" || !slices.Contains(pl.URLs, "https://r1.custom.test/incidents/i1") {
		t.Errorf("registry page: %+v %+v %v", res, pl, err)
	}
	_, res, err = p.Preview(ctx, ev("d1"), Fixed{})
	if err != nil || res.Source != SourceDefault || res.Hosts[0] != "d1.default.example.com" {
		t.Errorf("default page: %+v %v", res, err)
	}
	_, _, err = p.Preview(ctx, ev("bad"), Fixed{Hosts: []string{"bad_host"}, Found: true})
	if !errors.Is(err, ErrBadRegistryEntry) {
		t.Errorf("bad entry: %v", err)
	}
	if !p.Configured("p0") || p.Configured("r1") {
		t.Error("Configured")
	}
	if cp := p.ConfiguredPages(); len(cp) != 1 || cp[0].ID != "p0" || len(cp[0].Hosts) != 2 {
		t.Errorf("ConfiguredPages = %+v", cp)
	}
}

// CheckEntry refuses what resolve refuses, naming the field.
func TestCheckEntryNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		zone  string
		want  string
	}{
		{[]string{"a.example.com", "b.example.com"}, "023e105f4ecef8ad9ca31a8372d0c353", ""},
		{[]string{"a.example.com", "bad host"}, "", `field "hosts[1]": "bad host" is not a hostname`},
		{[]string{""}, "", `field "hosts[0]"`},
		{[]string{strings.Repeat("a", 64) + ".example.com"}, "", `field "hosts[0]"`},
		{[]string{"-a.example.com"}, "", `field "hosts[0]"`},
		{[]string{"a.example.com"}, "../x", `field "zone": "../x": a zone is`},
	} {
		err := CheckEntry(tc.hosts, tc.zone)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckEntry(%q, %q) = %v, want %q", tc.hosts, tc.zone, err, tc.want)
		}
		// Planning refuses the same entries.
		p := newPlanner(t, twoHostConfig(), fakeRegistry{})
		_, _, perr := p.Preview(context.Background(), event.Event{Type: event.IncidentUpdated, PageID: "x"}, Fixed{Hosts: tc.hosts, Zone: tc.zone, Found: true})
		if (perr != nil) != (err != nil) {
			t.Errorf("CheckEntry(%q, %q) = %v but planning says %v", tc.hosts, tc.zone, err, perr)
		}
	}
}

// A registry entry's options replace the default rule's fields they set,
// keep the others, and are checked as the config's page rules are.
func TestRegistryOptionsOverTheDefaultRule(t *testing.T) {
	rules := twoHostConfig()
	rules.Defaults = &config.PageRule{
		Hosts: []string{"{page_id}.default.example.com"},
		Tags:  []string{"default:{page_id}"},
		Keys:  []string{"statuspage:{page_id}:summary"},
	}
	rules.Reserved = []string{"edgepurge:"}
	p := newPlanner(t, rules, fakeRegistry{})
	ctx := context.Background()
	soft := true
	o := Options{Schemes: []string{"http"}, Tags: []string{"t:{page_id}"}, Paths: &OptionPaths{Common: []string{"/only"}, Incident: []string{}}, SoftPurge: &soft}
	if err := p.CheckOptions(o); err != nil {
		t.Fatal(err)
	}
	stored := o.Encode()
	if back, err := DecodeOptions(stored); err != nil || back.Paths == nil || back.Paths.Incident == nil || back.Paths.Component != nil {
		t.Fatalf("an empty group must survive the round trip and a missing one stay missing: %s → %+v %v", stored, back, err)
	}
	pl, _, err := p.Preview(ctx, event.Event{Type: event.IncidentUpdated, PageID: "r1", IncidentID: "i1"}, Fixed{Hosts: []string{"r1.custom.test"}, Options: stored, Found: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pl.URLs, []string{"http://r1.custom.test/only"}) || !slices.Equal(pl.Tags, []string{"t:r1"}) ||
		!slices.Equal(pl.Keys, []string{"statuspage:r1:summary"}) || !pl.SoftPurge {
		t.Errorf("plan with options: %+v", pl)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Schemes: []string{"ftp"}}, `schemes[0]: "ftp"`},
		{Options{Tags: []string{"{nope}"}}, `tags[0]`},
		{Options{Keys: []string{"edgepurge:journal"}}, `keys[0]: "edgepurge:journal" is under "edgepurge:"`},
		{Options{CDNOrder: []string{"varnish", "varnish"}}, `cdn_order[1]: "varnish" listed twice`},
		{Options{Paths: &OptionPaths{Common: []string{"x"}}}, `paths: "x" must start with /`},
	} {
		if err := p.CheckOptions(tc.o); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("CheckOptions(%+v) = %v, want %q…", tc.o, err, tc.want)
		}
	}
	// A stored entry with bad options is refused at read time, naming it.
	_, _, err = p.Preview(ctx, event.Event{Type: event.IncidentUpdated, PageID: "r2"}, Fixed{Hosts: []string{"r2.test"}, Options: `{"schemes":["ftp"]}`, Found: true})
	if !errors.Is(err, ErrBadRegistryEntry) || !strings.Contains(err.Error(), "schemes[0]") {
		t.Errorf("bad stored options: %v", err)
	}
	// Fastly cannot purge hosts: a cover by hostname is refused.
	rules.NoHostPurges = config.CDNFastly
	if err := newPlanner(t, rules, fakeRegistry{}).CheckOptions(Options{Cover: &OptionCover{Hosts: true}}); err == nil || !strings.Contains(err.Error(), "cover.hosts") {
		t.Errorf("cover.hosts with Fastly: %v", err)
	}
}
