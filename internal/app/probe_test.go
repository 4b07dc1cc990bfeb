package app

import (
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
)

// The probe URL is under a host the zone serves: the first page (by id) of
// that zone, else the default rule rendered for the probe page, else any
// configured host.
func TestProbeURLIsUnderAHostOfTheZone(t *testing.T) {
	cfg := &config.Config{
		Cloudflare: cloudflare.Config{ZoneID: "zmain"},
		Probe:      config.Probe{Path: "/.well-known/edgepurge-probe"},
		Defaults:   &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}},
		Pages: map[string]config.PageRule{
			"b":  {Hosts: []string{"status.b.test"}, Zone: "zother"},
			"a":  {Hosts: []string{"status.a.test"}, Zone: "zother"},
			"c":  {Hosts: []string{"{page_id}.{incident_id}.test", "Status.C.test"}, Zone: "zthird"},
			"dd": {Hosts: []string{"status.dd.test"}},
		},
	}
	for zone, want := range map[string]string{
		"zother":   "https://status.a.test/.well-known/edgepurge-probe",
		"zthird":   "https://status.c.test/.well-known/edgepurge-probe",
		"zmain":    "https://status.dd.test/.well-known/edgepurge-probe",
		"zunknown": "https://status.a.test/.well-known/edgepurge-probe",
	} {
		if got := probeURL(cfg, zone); got != want {
			t.Errorf("probe URL of %s = %s, want %s", zone, got, want)
		}
	}
	cfg.Pages = nil
	if got, want := probeURL(cfg, "zmain"), "https://edgepurge-probe.status.example.com/.well-known/edgepurge-probe"; got != want {
		t.Errorf("default rule only: %s, want %s", got, want)
	}
	cfg.Defaults = nil
	if got, want := probeURL(cfg, "zmain"), "https://edgepurge-probe.invalid/.well-known/edgepurge-probe"; got != want {
		t.Errorf("no host at all: %s, want %s", got, want)
	}
}

// A Fastly zone maps to its service for the probe: a zone fastly.services
// names, else one no entry names (the default service).
func TestFastlyZoneOfAService(t *testing.T) {
	f := fastly.Config{ServiceID: "sdefault", Services: map[string]string{"z2": "s2", "z1": "s2", "z3": "s3"}}
	for svc, want := range map[string]string{"s2": "z1", "s3": "z3", "sdefault": ProbePage} {
		if got := fastlyZoneOf(f, svc); got != want || f.Service(got) != svc {
			t.Errorf("zone of %s = %s (service %s), want %s", svc, got, f.Service(got), want)
		}
	}
}
