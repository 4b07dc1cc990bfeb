package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// The breaker opens after N failed events (the state gauge says 2), then
// events fail fast without reaching the CDN; the zone's readiness check,
// fed by the calls that reach the CDN, names the zone once it has failed
// for the window and stays so while the breaker refuses (it does not flap
// with it); after the cool-down one event probes the CDN and, the CDN
// having recovered, closes the breaker and clears the check.
func TestBreakerOpensFailsFastAndClosesAfterTheCooldown(t *testing.T) {
	const cooldown = 2 * time.Second
	h := harness.StartURLsOnly(t, 500*time.Millisecond, func(cfg *config.Config) {
		cfg.Cloudflare.Breaker = breaker.Config{Failures: 2, Cooldown: cooldown}
		cfg.Readiness.Window = time.Second
	})
	zoneCheck := "cloudflare zone " + harness.TestZone
	cf := map[string]string{"backend": "cloudflare"}
	if s := h.Gauge("edgepurge_breaker_state", cf); s != 0 {
		t.Fatalf("breaker state at start: %v, want 0 (closed)", s)
	}

	// Two events fail after retrying until their deadline: the breaker opens.
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "edge on fire"})
	for i := 1; i <= 2; i++ {
		code, raw := h.SendEvent(harness.EventID(t, i), []byte(harness.IncidentEvent))
		r := harness.DecodeAnswer(t, raw).Results[0]
		if code != http.StatusBadGateway || !r.Retryable || !strings.Contains(r.Error, "HTTP 500: code 10000: edge on fire") {
			t.Fatalf("event %d: %d %s", i, code, raw)
		}
	}
	// The zone is a shared check: every instance's CDN is the same, so
	// the instance stays in the load balancer and names it degraded, once
	// the zone has failed every call for the window.
	h.WaitFor(func(code int, rz harness.Readyz) bool {
		return code == http.StatusOK && len(rz.Failing) == 0 && slices.Equal(rz.Degraded, []string{zoneCheck})
	})
	if s := h.Gauge("edgepurge_breaker_state", cf); s != 2 {
		t.Errorf("breaker state: %v, want 2 (open)", s)
	}

	// Open: the next event fails fast, retryable, and never reaches the CDN.
	before := len(h.Stub.PurgeCalls())
	code, raw := h.SendEvent(harness.EventID(t, 3), []byte(harness.IncidentEvent))
	r := harness.DecodeAnswer(t, raw).Results[0]
	if code != http.StatusServiceUnavailable || r.Status != chain.BackendFailed || !r.Retryable || !r.Unsent ||
		!strings.Contains(r.Error, "circuit open") || r.Calls != 0 {
		t.Errorf("event with the breaker open: %d %s", code, raw)
	}
	if after := len(h.Stub.PurgeCalls()); after != before {
		t.Errorf("the stand-in saw %d calls while the breaker was open", after-before)
	}
	if _, rz := h.Readyz(); !slices.Equal(rz.Degraded, []string{zoneCheck}) {
		t.Errorf("readyz while the breaker refuses: %+v, want the zone still degraded", rz)
	}

	// The CDN recovers; after the cool-down the breaker is half-open, and
	// the next event is the trial call that closes it and clears the zone.
	h.Stub.ClearFailure()
	for range 500 {
		if h.Gauge("edgepurge_breaker_state", cf) == 1 {
			break
		}
		harness.Sleep()
	}
	if s := h.Gauge("edgepurge_breaker_state", cf); s != 1 {
		t.Errorf("breaker state after the cool-down: %v, want 1 (half-open)", s)
	}
	code, raw = h.SendEvent(harness.EventID(t, 4), []byte(harness.IncidentEvent))
	if code != http.StatusOK {
		t.Fatalf("probe event: %d %s", code, raw)
	}
	if code, rz := h.Readyz(); code != http.StatusOK || len(rz.Degraded) != 0 {
		t.Errorf("readyz after the trial call purged: %d %+v", code, rz)
	}
	if s := h.Gauge("edgepurge_breaker_state", cf); s != 0 {
		t.Errorf("breaker state after a successful probe: %v, want 0 (closed)", s)
	}
	for _, tr := range [][2]string{{"closed", "open"}, {"open", "half-open"}, {"half-open", "closed"}} {
		labels := map[string]string{"backend": "cloudflare", "from": tr[0], "to": tr[1]}
		if n := h.Counter("edgepurge_breaker_transitions_total", labels); n != 1 {
			t.Errorf("transitions %s→%s: %v, want 1", tr[0], tr[1], n)
		}
	}
}
