package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// A CDN answering 500 twice, then 200: the event is retried within its
// deadline and answered 200; the stand-in saw three calls; both retries
// are counted.
func TestServerErrorsAreRetriedUntilPurged(t *testing.T) {
	h := harness.StartURLsOnly(t, 10*time.Second, nil)
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error", Count: 2})
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.Status != chain.StatusPurged || a.Results[0].Items != 22 || a.Results[0].Status != chain.BackendOK {
		t.Errorf("answer %s", raw)
	}
	calls := h.Stub.PurgeCalls()
	if len(calls) != 3 || calls[0].Status != 500 || calls[1].Status != 500 || calls[2].Status != 200 {
		t.Fatalf("stand-in calls %+v, want 500, 500, 200", calls)
	}
	if got := h.Stub.URLsPurged(harness.TestZone); len(got) != 22 {
		t.Errorf("%d URLs purged at the stand-in, want 22", len(got))
	}
	if n := h.Counter("edgepurge_cdn_retries_total", map[string]string{"backend": "cloudflare", "reason": "5xx"}); n != 2 {
		t.Errorf("retries counted: %v, want 2", n)
	}
}

// A permanent refusal (403, bad token) is not retried: one call, 502,
// the answer names Cloudflare's code and says it is not retryable.
func TestPermanentRefusalIsNotRetried(t *testing.T) {
	h := harness.StartURLsOnly(t, 10*time.Second, nil)
	h.Stub.SetFailure(cfstub.Failure{Status: 403, Codes: []int{10000}, Message: "Authentication error"})
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	if code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502: %s", code, raw)
	}
	cf := harness.DecodeAnswer(t, raw).Results[0]
	if cf.Status != chain.BackendFailed || !slices.Equal(cf.ErrorCodes, []int{10000}) || cf.Retryable || cf.Unsent ||
		!strings.Contains(cf.Error, "HTTP 403: code 10000: Authentication error") {
		t.Errorf("cloudflare result %+v", cf)
	}
	if n := len(h.Stub.PurgeCalls()); n != 1 {
		t.Errorf("stand-in saw %d calls, want exactly 1", n)
	}
	if n := h.Counter("edgepurge_cdn_retries_total", map[string]string{"backend": "cloudflare"}); n != 0 {
		t.Errorf("retries counted: %v, want 0", n)
	}
}

// A 429 with Retry-After: 1 is retried no sooner than a second later, and
// the event is answered 200.
func TestThrottledCallIsRetriedAfterRetryAfter(t *testing.T) {
	h := harness.StartURLsOnly(t, 10*time.Second, nil)
	h.Stub.SetFailure(cfstub.Failure{Status: 429, Codes: []int{971}, Message: "Please wait and consider throttling your request speed",
		Count: 1, RetryAfter: time.Second})
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", code, raw)
	}
	calls := h.Stub.PurgeCalls()
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Fatalf("stand-in calls %+v, want 429 then 200", calls)
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
		t.Errorf("retried %v after the 429, before its Retry-After of 1s", gap)
	}
	if n := h.Counter("edgepurge_cdn_retries_total", map[string]string{"backend": "cloudflare", "reason": "429"}); n != 1 {
		t.Errorf("retries counted: %v, want 1", n)
	}
}

// A CDN that never answers: the event is answered by its deadline (with a
// margin for a loaded machine), non-2xx and retryable.
func TestHangingCDNIsAnsweredByTheDeadline(t *testing.T) {
	h := harness.StartURLsOnly(t, time.Second, nil)
	h.Stub.Hang(true)
	t.Cleanup(func() { h.Stub.Hang(false) })
	start := time.Now()
	code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
	took := time.Since(start)
	if code/100 == 2 || code == http.StatusBadRequest {
		t.Fatalf("status %d for a purge that never got an answer: %s", code, raw)
	}
	if took > 5*time.Second {
		t.Errorf("answered after %v; the deadline is 1s", took)
	}
	cf := harness.DecodeAnswer(t, raw).Results[0]
	if cf.Status != chain.BackendFailed || !cf.Retryable || cf.Items != 0 {
		t.Errorf("cloudflare result %+v", cf)
	}
}
