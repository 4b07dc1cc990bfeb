package harness

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// IncidentEvent is an incident update of page p0: 22 URLs.
const IncidentEvent = `{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`

// StartURLsOnly runs edgepurge with page p0 purging URLs only (one CDN call
// per event), the journal off (so a failure is answered as such, not
// recorded for a re-drive) and the purge deadline given; edit may change
// more.
func StartURLsOnly(t *testing.T, deadline time.Duration, edit func(cfg *config.Config)) *H {
	t.Helper()
	h := Start(t, cfstub.Options{}, func(cfg *config.Config) {
		p := cfg.Pages[TestPage]
		p.Tags = nil
		cfg.Pages[TestPage] = p
		cfg.Journal.Disabled = true
		cfg.Server.PurgeTimeout = deadline
		// The request's deadline covers the purge's, with room to settle.
		cfg.Server.RequestTimeout = max(config.DefaultRequestTimeout, deadline+5*time.Second)
		if edit != nil {
			edit(cfg)
		}
	})
	h.WaitReady()
	return h
}

// EventID is a fresh event id, so that no event is a duplicate.
func EventID(t *testing.T, n int) string {
	return fmt.Sprintf("msg_%s_%d", strings.ReplaceAll(t.Name(), "/", "."), n)
}
