package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// A storm on one page: every event answered 200 after its URLs were sent,
// far fewer CDN calls than events, none over the per-call limit, no 429.
func TestStormOnOnePageCoalesces(t *testing.T) {
	h := harness.Start(t, cfstub.Options{Latency: 30 * time.Millisecond, URLRate: 1500, URLBurst: 1500}, nil)
	h.WaitReady()
	const events = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	sem := make(chan struct{}, 200)
	for i := range events {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			body := fmt.Appendf(nil, `{"type":"incident.updated","page_id":"p0","incident_id":"inc1","urls":["https://p0.status.example.com/e/%d"]}`, i%20)
			code, _ := h.SendEvent(fmt.Sprintf("msg_storm_%d", i), body)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != events {
		t.Fatalf("status counts %v, want %d × 200", codes, events)
	}
	calls := h.Stub.PurgeCalls()
	for _, c := range calls {
		if len(c.Items) > 100 || c.Status != http.StatusOK {
			t.Fatalf("call of %d items answered %d", len(c.Items), c.Status)
		}
	}
	if len(calls) > events/5 {
		t.Errorf("%d CDN calls for %d events: not coalescing", len(calls), events)
	}
	if h.Stub.Throttled() != 0 {
		t.Errorf("%d 429s", h.Stub.Throttled())
	}
	t.Logf("%d events → %d CDN calls", events, len(calls))
}

// When the budget cannot send an event's URLs before its deadline, the
// answer is 503 with Retry-After — never a 200 for URLs not sent.
func TestDeadlineBeforeSendIs503(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Server.PurgeTimeout = 500 * time.Millisecond
		// Without the journal: with it, the unsent URLs are journaled (202).
		cfg.Journal.Disabled = true
		// A budget of 10 URLs a minute: the first event's 22 URLs cannot all go.
		cfg.Cloudflare.RateLimit = ratelimit.Config{URLsPerSecond: 10.0 / 60, URLBurst: 12, Account: cfg.Cloudflare.RateLimit.Account}
	})
	h.WaitReady()
	req, _ := http.NewRequest(http.MethodPost, h.Base+"/v1/purge", strings.NewReader(`{"page_id":"p0","incident_id":"inc1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+harness.TestAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := len(h.Stub.URLsPurged(harness.TestZone)); n >= 22 {
		t.Errorf("%d URLs reached the CDN; the budget allowed fewer", n)
	}
}
