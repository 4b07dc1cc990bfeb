package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/server"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/fastlystub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/varnishtest"
)

// probing turns the probe purges on, every second, with a one-second
// readiness window, so that a test sees a target proven or failing soon.
func probing(cfg *config.Config) {
	cfg.Probe = config.Probe{Interval: time.Second}
	cfg.Readiness.Window = time.Second
}

// backends reads GET /v1/backends with the API token.
func backends(t *testing.T, h *harness.H, token string) (int, server.BackendsReport) {
	t.Helper()
	code, body := h.API(http.MethodGet, "/v1/backends", token)
	var rep server.BackendsReport
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatalf("/v1/backends: %v: %s", err, body)
		}
	}
	return code, rep
}

func backendOf(rep server.BackendsReport, check string) (server.BackendStatus, bool) {
	for _, b := range rep.Backends {
		if b.Check == check {
			return b, true
		}
	}
	return server.BackendStatus{}, false
}

// waitCheck polls /readyz?verbose until check's state satisfies ok.
func waitCheck(t *testing.T, h *harness.H, check string, ok func(harness.VerboseReadyz) bool) harness.VerboseReadyz {
	t.Helper()
	var r harness.VerboseReadyz
	for range 750 {
		if _, r = h.VerboseReadyz(); ok(r) {
			return r
		}
		harness.Sleep()
	}
	t.Fatalf("check %q never reached the expected state: %+v", check, r.Checks)
	return r
}

// A Cloudflare token that may purge and nothing else — a user token, or an
// account-owned one — makes the instance ready by purging: the probe URL
// and tag reach the stand-in, and the zone's check passes. When every
// purge fails, the zone's check fails after the window and says why, in
// /readyz, /v1/backends and the metrics; when the CDN heals, it passes
// again.
func TestReadinessIsProvenByPurging(t *testing.T) {
	for _, tok := range []cfstub.Token{
		{Value: harness.TestCFToken, Permissions: []string{cfstub.PermCachePurge}},
		{Value: harness.TestCFToken, Account: "0123456789abcdef0123456789abcdef", Permissions: []string{cfstub.PermCachePurge}},
	} {
		name := "user token"
		if tok.Account != "" {
			name = "account token"
		}
		t.Run(name, func(t *testing.T) {
			h := harness.Start(t, cfstub.Options{ScopedTokens: []cfstub.Token{tok}}, func(cfg *config.Config) {
				probing(cfg)
				cfg.Cloudflare.AccountID = tok.Account
			})
			h.WaitReady()
			zone := "cloudflare zone " + harness.TestZone
			probeURL := "https://p0.status.example.com/.well-known/edgepurge-probe"
			if !slices.Contains(h.Stub.URLsPurged(harness.TestZone), probeURL) {
				t.Errorf("ready, but the probe URL was not purged: %q", h.Stub.URLsPurged(harness.TestZone))
			}
			// The probe's URL and tag are two calls: the first success makes
			// the zone ready, so the tag may still be on its way.
			tagPurged := func() bool {
				_, ok := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["edgepurge-probe"]
				return ok
			}
			for i := 0; i < 750 && !tagPurged(); i++ {
				harness.Sleep()
			}
			if !tagPurged() {
				t.Errorf("ready, but the probe tag was never purged")
			}
			if got := h.Gauge("edgepurge_ready", map[string]string{"check": zone}); got != 1 {
				t.Errorf("edgepurge_ready{check=%q} = %v, want 1", zone, got)
			}

			h.Stub.SetFailure(cfstub.Failure{Status: 503, Codes: []int{10000}, Message: "edge on fire"})
			r := waitCheck(t, h, zone, func(r harness.VerboseReadyz) bool {
				c, _ := r.Check(zone)
				return !c.OK
			})
			if c, _ := r.Check(zone); c.Gating || c.FailingSince.IsZero() || !strings.Contains(c.Error, "no successful purge for") ||
				!strings.Contains(c.Error, "HTTP 503") {
				t.Errorf("failing zone check: %+v", c)
			}
			if !r.Ready || !slices.Contains(r.Degraded, zone) {
				t.Errorf("readyz: ready=%v degraded=%q; want ready (a shared check) naming the zone", r.Ready, r.Degraded)
			}
			if got := h.Gauge("edgepurge_ready", map[string]string{"check": zone}); got != 0 {
				t.Errorf("edgepurge_ready{check=%q} = %v while failing, want 0", zone, got)
			}
			if n := h.Counter("edgepurge_backend_calls_total", map[string]string{"backend": "cloudflare", "target": harness.TestZone, "result": "failed"}); n == 0 {
				t.Error("no failed call counted")
			}
			code, rep := backends(t, h, harness.TestAPIToken)
			b, ok := backendOf(rep, zone)
			if code != http.StatusOK || !ok || b.State != "failing" || b.Failures5m == 0 || b.LastSuccess.IsZero() ||
				!strings.Contains(b.Error, "HTTP 503") || b.Breaker == "" || len(b.Budget) != 2 {
				t.Errorf("/v1/backends: %d %+v", code, b)
			}
			if rep.DryRun || rep.WindowSeconds != 1 || rep.Backends[0].Backend != "redis" {
				t.Errorf("/v1/backends: %+v", rep)
			}

			h.Stub.ClearFailure()
			waitCheck(t, h, zone, func(r harness.VerboseReadyz) bool {
				c, _ := r.Check(zone)
				return c.OK && c.Error == ""
			})
			if _, body := h.Get("/readyz?verbose"); strings.Contains(body, harness.TestCFToken) {
				t.Error("readyz shows the token")
			}
		})
	}
}

// A token that cannot purge the zone is named in readiness with the
// permission to add.
func TestReadinessNamesTheMissingPermission(t *testing.T) {
	h := harness.Start(t, cfstub.Options{ScopedTokens: []cfstub.Token{{Value: harness.TestCFToken, Permissions: []string{cfstub.PermZoneRead}}}}, probing)
	zone := "cloudflare zone " + harness.TestZone
	r := waitCheck(t, h, zone, func(r harness.VerboseReadyz) bool {
		c, _ := r.Check(zone)
		return !c.OK && c.Error != "not checked yet"
	})
	if c, _ := r.Check(zone); !strings.Contains(c.Error, "Zone → Cache Purge → Purge") {
		t.Errorf("zone check %+v: want the permission to add", c)
	}
}

// /v1/backends is for the API token's holder only.
func TestBackendsNeedsTheAPIToken(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	for _, tok := range []string{"", "wrong"} {
		if code, _ := backends(t, h, tok); code != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", tok, code)
		}
	}
}

// A Fastly token limited to purge_select makes the instance ready: the
// probe's surrogate key proves the service.
func TestFastlyPurgeSelectTokenIsReady(t *testing.T) {
	h, stub := startFastly(t, fastlystub.Options{Scopes: map[string][]string{fastlyToken: {fastlystub.ScopePurgeSelect}}}, probing)
	svc := "fastly service " + fastlyService
	waitCheck(t, h, svc, func(r harness.VerboseReadyz) bool {
		c, _ := r.Check(svc)
		return c.OK && !c.LastSuccess.IsZero()
	})
	if _, ok := stub.Purged(fastlyService)["edgepurge-probe"]; !ok {
		t.Errorf("ready, but the probe key was not purged: %v", stub.Purged(fastlyService))
	}
}

// Varnish gets readiness like the CDNs: every node is its own check,
// proven by the probe; a dead node fails its check, the live one passes,
// and the backends report shows both.
func TestVarnishNodeDownFailsItsCheck(t *testing.T) {
	o := newStatusOrigin(t)
	up := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	down := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{up.URL(), down.URL()}, probing)
	down.Stop()
	dead, live := "varnish node "+down.URL(), "varnish node "+up.URL()
	r := waitCheck(t, h, dead, func(r harness.VerboseReadyz) bool {
		c, _ := r.Check(dead)
		return !c.OK
	})
	if c, _ := r.Check(dead); !strings.Contains(c.Error, "connection refused") {
		t.Errorf("dead node's check: %+v", c)
	}
	if c, _ := r.Check(live); !c.OK {
		t.Errorf("live node's check: %+v", c)
	}
	_, rep := backends(t, h, harness.TestAPIToken)
	if b, _ := backendOf(rep, dead); b.State != "failing" || b.Breaker != "" || b.Budget != nil {
		t.Errorf("dead node in /v1/backends: %+v", b)
	}
	if b, _ := backendOf(rep, live); b.State != "ok" {
		t.Errorf("live node in /v1/backends: %+v", b)
	}
}

// A 429 that pauses a budget past a purge's deadline is a readiness
// detail, beside the metric and the log line: Fastly's purge_all answered
// 429 for the rest of the hour names the paused bucket and until when,
// while URL and key purges go on.
func TestALongPauseIsAReadinessDetail(t *testing.T) {
	h, stub := startFastly(t, fastlystub.Options{}, nil)
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	stub.SetAPIWindow(fastlyToken, 0, reset)
	if code, raw := h.ManualPurge(`{"page_id":"p0","everything":true}`); code == http.StatusOK {
		t.Fatalf("purge everything with the user's hour spent: %d %s", code, raw)
	}
	const check = "ratelimit fastly everything"
	r := waitCheck(t, h, check, func(r harness.VerboseReadyz) bool {
		c, ok := r.Check(check)
		return ok && !c.OK
	})
	if c, _ := r.Check(check); c.Gating || !strings.Contains(c.Error, "paused the everything budget until "+reset.UTC().Format(time.RFC3339)) {
		t.Errorf("pause check: %+v", c)
	}
	if n := h.Counter("edgepurge_ratelimit_long_pauses_total", map[string]string{"backend": "fastly", "bucket": "everything"}); n != 1 {
		t.Errorf("long pauses counted: %v, want 1", n)
	}
	if code, raw := h.ManualPurge(`{"page_id":"p0"}`); code != http.StatusOK {
		t.Errorf("a page's URLs and keys while purge_all is paused: %d %s", code, raw)
	}
}
