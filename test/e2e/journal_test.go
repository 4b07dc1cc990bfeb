package e2e

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// journalConfig is a short deadline and a fast re-driver, for tests.
func journalConfig(cfg *config.Config) {
	cfg.Server.PurgeTimeout = 500 * time.Millisecond
	cfg.Journal.Poll = 20 * time.Millisecond
	cfg.Journal.ClaimIdle = time.Second
}

func TestRetryableCDNFailureIsJournaledAndRedriven(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, journalConfig)
	h.WaitReady()
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	sent := time.Now()
	code, raw := h.SendEvent("msg_j1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusAccepted || a.Status != chain.StatusJournaled || a.JournalID == "" ||
		a.Results[0].Status != "failed" || !strings.Contains(a.Results[0].Error, "HTTP 500") || a.Results[1].Status != "ok" {
		t.Fatalf("answer %d %s", code, raw)
	}
	if !strings.Contains(h.Logs.String(), `"msg":"event journaled for re-drive"`) {
		t.Error("the journaling was not logged")
	}
	waitFor(t, "the journal gauge", func() bool { return h.Metric("edgepurge_journal_pending ") == "edgepurge_journal_pending 1" })

	h.Stub.ClearFailure()
	// URLs and tags go in separate calls: wait for both.
	waitFor(t, "the re-drive", func() bool {
		_, tagged := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["page:p0"]
		return len(h.Stub.URLsPurged(harness.TestZone)) == 22 && tagged
	})
	for u, at := range h.Stub.Purged(harness.TestZone, cfstub.KindFiles) {
		if at.Before(sent) {
			t.Errorf("%s purged at %s, before the event", u, at)
		}
	}
	if at, ok := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["page:p0"]; !ok || at.Before(sent) {
		t.Errorf("tag page:p0 not re-purged: %v %v", at, ok)
	}
	waitFor(t, "the journal to empty", func() bool {
		return h.Metric("edgepurge_journal_pending ") == "edgepurge_journal_pending 0" &&
			h.Metric(`edgepurge_journal_redrives_total{result="ok"}`) == `edgepurge_journal_redrives_total{result="ok"} 1`
	})
	l := h.Purges("?source=redrive", 1)
	if r := l.Records[0]; r.ID != "msg_j1" || r.Status != "purged" || len(r.Results) != 1 || r.Results[0].Backend != "cloudflare" {
		t.Errorf("audit record of the re-drive: %+v", r)
	}
	// Only the failed backend was re-driven: Redis was purged once.
	if n, _ := redistest.Client(t).XLen(context.Background(), h.Prefix+"journal").Result(); n != 0 {
		t.Errorf("journal holds %d entries", n)
	}
}

func TestPermanentCDNFailureIsNotJournaled(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, journalConfig)
	h.WaitReady()
	h.Stub.SetFailure(cfstub.Failure{Status: 403, Codes: []int{10000}, Message: "Authentication error"})
	code, raw := h.SendEvent("msg_j403", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	if a := harness.DecodeAnswer(t, raw); code != http.StatusBadGateway || a.Status != chain.StatusPartial || a.JournalID != "" {
		t.Fatalf("answer %d %s", code, raw)
	}
	if n, _ := redistest.Client(t).XLen(context.Background(), h.Prefix+"journal").Result(); n != 0 {
		t.Errorf("a permanent failure was journaled: %d entries", n)
	}
}

// With Redis down the CDN is purged all the same, but the Redis part can
// be recorded nowhere: 503 with Retry-After, status partial.
func TestRedisDownPurgesTheCDNAndAnswers503(t *testing.T) {
	srv := redistest.StartServer(t)
	h := harness.StartOn(t, srv.URL(), "ep:", cfstub.Options{}, journalConfig)
	h.WaitReady()
	srv.Stop()

	req, _ := http.NewRequest(http.MethodPost, h.Base+"/v1/purge", strings.NewReader(`{"page_id":"p0","incident_id":"inc1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+harness.TestAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := harness.DecodeAnswer(t, body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" || a.Status != chain.StatusPartial ||
		a.Results[0].Status != "ok" || a.Results[1].Backend != "redis" || a.Results[1].Status != "failed" ||
		!strings.Contains(a.JournalError, "could not be journaled") {
		t.Fatalf("answer %d (Retry-After %q) %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := h.Stub.URLsPurged(harness.TestZone); len(got) != 22 || !slices.Contains(got, "https://p0.status.example.com/incidents/inc1") {
		t.Errorf("the CDN was not purged with Redis down: %d URLs", len(got))
	}
	srv.Restart()
	h.WaitReady()
}

// waitFor polls cond until it holds or 15 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
