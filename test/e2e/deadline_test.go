package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// One deadline covers every phase of a request. The page asks for an edge
// check, and its edge hangs: the snapshot, the purge, the check (and a
// re-purge) would take 1 s + the purge + 3 s + … on their own bounds; the
// request's deadline (1 s here) cuts them, and the event is still answered.
func TestOneDeadlineCoversAnEdgeCheckOfASlowEdge(t *testing.T) {
	release := make(chan struct{})
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(func() { close(release); edge.Close() })

	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		p := cfg.Pages[harness.TestPage]
		p.EdgeCheck = &config.EdgeCheck{Enabled: true, Edge: edge.URL}
		cfg.Pages[harness.TestPage] = p
		cfg.Server.PurgeTimeout = time.Second
		cfg.Server.RequestTimeout = time.Second
	})
	h.WaitReady()
	start := time.Now()
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	took := time.Since(start)
	a := harness.DecodeAnswer(t, raw)
	// The edge check's own bounds alone are 1 s (snapshot) + 3 s (check):
	// an answer well before 4 s is the request's deadline at work.
	if took >= 3500*time.Millisecond {
		t.Errorf("answered after %s with a 1 s request deadline", took)
	}
	if code != http.StatusOK || a.Status != chain.StatusPurged {
		t.Errorf("%d %s: want the purge answered (the edge's freshness unknown, not stale)", code, raw)
	}
	for _, c := range a.EdgeChecks {
		if c.Result != chain.CheckFailed {
			t.Errorf("edge check %+v: want failed (the edge never answered)", c)
		}
	}
	if len(a.EdgeChecks) == 0 {
		t.Errorf("no edge check in the answer: %s", raw)
	}
}
