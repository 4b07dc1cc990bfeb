package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// incidentEvent is an incident update of page p0: 22 URLs.
const incidentEvent = `{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`

// startURLsOnly runs edgepurge with page p0 purging URLs only (one CDN call
// per event), the journal off (so a failure is answered as such, not
// recorded for a re-drive) and the purge deadline given; edit may change
// more.
func startURLsOnly(t *testing.T, deadline time.Duration, edit func(cfg *config.Config)) *harness {
	t.Helper()
	h := start(t, cfstub.Options{}, func(cfg *config.Config) {
		p := cfg.Pages[testPage]
		p.Tags = nil
		cfg.Pages[testPage] = p
		cfg.Journal.Disabled = true
		cfg.Server.PurgeTimeout = deadline
		if edit != nil {
			edit(cfg)
		}
	})
	h.waitReady()
	return h
}

// counter is the value of a counter in /metrics with these labels; 0 when
// absent.
func (h *harness) counter(name string, labels map[string]string) float64 {
	h.t.Helper()
	return sample(h.scrape()[name], labels).GetCounter().GetValue()
}

// gauge is the value of a gauge in /metrics with these labels.
func (h *harness) gauge(name string, labels map[string]string) float64 {
	h.t.Helper()
	m := sample(h.scrape()[name], labels)
	if m == nil {
		h.t.Fatalf("no %s%v in /metrics", name, labels)
	}
	return m.GetGauge().GetValue()
}

// eventID is a fresh event id, so that no event is a duplicate.
func eventID(t *testing.T, n int) string {
	return fmt.Sprintf("msg_%s_%d", strings.ReplaceAll(t.Name(), "/", "."), n)
}
