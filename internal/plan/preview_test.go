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
