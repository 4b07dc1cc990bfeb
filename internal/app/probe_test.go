package app

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

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

// Ten minutes of Redis down, probed every second, log a line when it
// starts failing, one reminder per interval with how long and how many
// probes failed, and one when it answers again: never a line a probe.
func TestRedisOutageIsLoggedOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var o outage
	start := time.Date(2026, 12, 7, 9, 39, 0, 0, time.UTC)
	down := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	for i := range 600 {
		o.note(log, start.Add(time.Duration(i)*time.Second), 30*time.Second, down)
	}
	o.note(log, start.Add(600*time.Second), 30*time.Second, nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1+19+1 {
		t.Fatalf("%d lines, want 21 (start, a reminder each 30s, ok again):\n%s", len(lines), buf.String())
	}
	for i, want := range map[int]string{
		0:  `"level":"WARN","msg":"redis failing: edgepurge's Redis (REDIS_URL or redis.url) does not answer; /readyz?verbose shows it too","err":"dial tcp 127.0.0.1:1: connect: connection refused"`,
		1:  `"level":"WARN","msg":"redis still failing","failing_for":"30s","failed_probes":31,"err":"dial tcp`,
		19: `"msg":"redis still failing","failing_for":"9m30s","failed_probes":571,`,
		20: `"level":"INFO","msg":"redis answers again","failed_for":"10m0s","failed_probes":600}`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s\nwant it to hold %s", i, lines[i], want)
		}
	}
	buf.Reset()
	o.note(log, start.Add(601*time.Second), 30*time.Second, nil)
	if buf.Len() != 0 {
		t.Errorf("a passing probe after the outage logged: %s", buf.String())
	}
}
