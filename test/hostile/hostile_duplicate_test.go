package hostile

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestReplayedWebhookIsADuplicate(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	body := []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`)

	code, raw := h.SendEvent("msg_dup_1", body)
	if a := harness.DecodeAnswer(t, raw); code != http.StatusOK || a.Status != chain.StatusPurged {
		t.Fatalf("first delivery: %d %s", code, raw)
	}
	calls := len(h.Stub.PurgeCalls())
	if calls == 0 {
		t.Fatal("the first delivery purged nothing at the stand-in")
	}
	// The sender's retry, signed again (a new timestamp), same webhook-id.
	code, raw = h.SendEvent("msg_dup_1", body)
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusOK || a.Status != chain.StatusDuplicate || a.ID != "msg_dup_1" ||
		len(a.Plan.URLs) != 0 || len(a.Results) != 0 {
		t.Fatalf("retry: %d %s", code, raw)
	}
	if got := len(h.Stub.PurgeCalls()); got != calls {
		t.Errorf("the retry reached the stand-in: %d purge calls, want %d", got, calls)
	}
	// Another id with the same body is another event.
	if code, raw := h.SendEvent("msg_dup_2", body); code != http.StatusOK || harness.DecodeAnswer(t, raw).Status != chain.StatusPurged {
		t.Errorf("a new id: %d %s", code, raw)
	}
}

func TestFailedDeliveryIsNotRecorded(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	body := []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`)
	h.Stub.SetFailure(cfstub.Failure{Status: http.StatusForbidden, Codes: []int{10000}, Message: "Authentication error"})

	code, raw := h.SendEvent("msg_fail_1", body)
	if code != http.StatusBadGateway || harness.DecodeAnswer(t, raw).Status == chain.StatusPurged {
		t.Fatalf("delivery during the outage: %d %s", code, raw)
	}
	rdb := redistest.Client(t)
	if n, _ := rdb.Exists(context.Background(), h.Prefix+"seen:msg_fail_1").Result(); n != 0 {
		t.Fatal("a failed delivery was recorded as purged")
	}

	h.Stub.ClearFailure()
	h.Stub.Reset()
	code, raw = h.SendEvent("msg_fail_1", body)
	if a := harness.DecodeAnswer(t, raw); code != http.StatusOK || a.Status != chain.StatusPurged {
		t.Fatalf("the sender's retry: %d %s", code, raw)
	}
	if len(h.Stub.URLsPurged(harness.TestZone)) != 22 {
		t.Errorf("the retry purged %d URLs at the stand-in, want 22", len(h.Stub.URLsPurged(harness.TestZone)))
	}
	if n, _ := rdb.Exists(context.Background(), h.Prefix+"seen:msg_fail_1").Result(); n != 1 {
		t.Error("the successful retry was not recorded")
	}
	// And now it is a duplicate.
	if code, raw := h.SendEvent("msg_fail_1", body); code != http.StatusOK || harness.DecodeAnswer(t, raw).Status != chain.StatusDuplicate {
		t.Errorf("after success: %d %s", code, raw)
	}
}

func TestStatuspageRetryIsADuplicateAndANewUpdateIsNot(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}}
	})
	h.WaitReady()
	body, err := os.ReadFile("../../examples/statuspage-incident.json")
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/hooks/statuspage/" + harness.TestSPToken

	code, raw := h.Post(path, body, nil)
	first := harness.DecodeAnswer(t, raw)
	if code != http.StatusOK || first.Status != chain.StatusPurged {
		t.Fatalf("first notification: %d %s", code, raw)
	}
	calls := len(h.Stub.PurgeCalls())

	code, raw = h.Post(path, body, nil)
	if a := harness.DecodeAnswer(t, raw); code != http.StatusOK || a.Status != chain.StatusDuplicate || a.ID != first.ID {
		t.Fatalf("Statuspage's retry: %d %s", code, raw)
	}
	if got := len(h.Stub.PurgeCalls()); got != calls {
		t.Errorf("the retry reached the stand-in: %d purge calls, want %d", got, calls)
	}

	// A new incident update: Statuspage sends every update, newest first.
	update := []byte(`"incident_updates":[{"body":"Resolved.","created_at":"2026-11-01T11:00:00-06:00","status":"resolved",` +
		`"updated_at":"2026-11-01T11:00:00-06:00","id":"z9x8c7v6b5n4","incident_id":"i8d3f0g5h2j4"},`)
	next := bytes.Replace(body, []byte(`"incident_updates":[`), update, 1)
	next = bytes.Replace(next, []byte(`"status":"monitoring","updated_at":"2026-11-01T10:41:00-06:00"`),
		[]byte(`"status":"resolved","updated_at":"2026-11-01T11:00:00-06:00"`), 1)
	if bytes.Equal(next, body) {
		t.Fatal("the example changed; update the test")
	}
	h.Stub.Reset()
	code, raw = h.Post(path, next, nil)
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusOK || a.Status != chain.StatusPurged || a.ID == first.ID {
		t.Fatalf("new update: %d %s", code, raw)
	}
	if len(h.Stub.URLsPurged(harness.TestZone)) != 11 {
		t.Errorf("the new update purged %d URLs, want 11", len(h.Stub.URLsPurged(harness.TestZone)))
	}
}
