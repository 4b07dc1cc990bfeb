package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

const canaryURL = "https://canary.status.example.com/edgepurge-canary"

// withCanary turns the canary on, fast, and keeps the audit stream under
// the test's prefix.
func withCanary(prefix string) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Canary = config.Canary{URL: canaryURL, Tag: "edgepurge-canary", Interval: time.Second, MaxAge: 5 * time.Second}
		cfg.Audit.Stream = prefix + "audit"
	}
}

func TestCanaryReadinessFollowsTheCDN(t *testing.T) {
	prefix := redistest.Prefix(t)
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		withCanary(prefix)(cfg)
		// A failing run retries until its purge deadline: keep it well
		// inside the canary's max_age, so the run's own error shows.
		cfg.Server.PurgeTimeout = 2 * time.Second
	})
	h.WaitReady()
	if !slices.Contains(h.Stub.URLsPurged(harness.TestZone), canaryURL) {
		t.Errorf("ready before the canary URL was purged: %q", h.Stub.URLsPurged(harness.TestZone))
	}
	code, r := h.VerboseReadyz()
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
		if !c.OK || c.LastSuccess.IsZero() || time.Since(c.LastSuccess) > time.Minute {
			t.Errorf("check %+v: want ok with a recent last_success", c)
		}
	}
	// The backend targets first (Redis, then the zone, which the canary's
	// purge called), then the others by name.
	if code != http.StatusOK || !slices.Equal(names, []string{"redis", "cloudflare zone " + harness.TestZone, "canary", "config"}) {
		t.Errorf("verbose readyz: %d %q", code, names)
	}
	if _, body := h.Get("/readyz"); strings.Contains(body, "checks") {
		t.Errorf("non-verbose readyz lists the checks: %s", body)
	}

	// The canary is a shared check (every instance purges through the same
	// CDN): failing, it is named degraded, and readiness holds.
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "edge on fire"})
	h.WaitFor(func(code int, r harness.Readyz) bool {
		return code == http.StatusOK && slices.Contains(r.Degraded, "canary") && len(r.Failing) == 0
	})
	_, r = h.VerboseReadyz()
	if c, ok := r.Check("canary"); !ok || c.OK || c.Gating || c.Scope != "shared" || c.FailingSince.IsZero() ||
		!strings.Contains(c.Error, "HTTP 500: code 10000: edge on fire") || c.LastSuccess.IsZero() {
		t.Errorf("failing canary: %+v", c)
	}
	if got := h.Gauge("edgepurge_ready", map[string]string{"check": "canary"}); got != 0 {
		t.Errorf("edgepurge_ready{check=canary} = %v while failing, want 0", got)
	}
	if code, _ := h.Get("/healthz"); code != http.StatusOK {
		t.Errorf("liveness must not follow the canary: %d", code)
	}

	h.Stub.ClearFailure()
	h.WaitReady()

	// Every run is in the audit trail, as source canary, failures included.
	// Written in the background: wait for the record of the run that
	// turned readiness green.
	var l audit.Listing
	for range 250 {
		if l = h.Purges("?source=canary&limit=1000", 3); l.Records[0].Status == "purged" {
			break
		}
		harness.Sleep()
	}
	failed := 0
	for _, r := range l.Records {
		if r.Source != "canary" || r.Plan.URLs != 1 || r.Plan.Tags != 1 || r.Results[0].Backend != "cloudflare" {
			t.Errorf("canary record %+v", r)
		}
		if r.Status != "purged" && strings.Contains(r.Results[0].Error, "edge on fire") {
			failed++
		}
	}
	if failed == 0 || l.Records[0].Status != "purged" {
		t.Errorf("%d failed canary runs recorded; newest %+v", failed, l.Records[0])
	}
}

func TestPurgesAPIFilters(t *testing.T) {
	prefix := redistest.Prefix(t)
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Audit.Stream = prefix + "audit"
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}}
		// No journal: its re-drives would add records to the listing.
		cfg.Journal.Disabled = true
	})
	h.WaitReady()
	auth := map[string]string{"Authorization": "Bearer " + harness.TestAPIToken}

	h.SendEvent("msg_a1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"i1"}`))
	h.SendEvent("msg_b1", []byte(`{"type":"incident.updated","page_id":"p1"}`))
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}})
	h.SendEvent("msg_a2", []byte(`{"type":"component.updated","page_id":"p0","component_ids":["c1"]}`))
	h.Stub.ClearFailure()
	h.Post("/v1/purge", []byte(`{"urls":["https://p0.status.example.com/x"]}`), auth)
	h.SendEvent("msg_a1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"i1"}`)) // duplicate: not a purge

	all := h.Purges("", 4)
	var ids, statuses []string
	for _, r := range all.Records {
		ids = append(ids, r.ID)
		statuses = append(statuses, r.Status)
	}
	if len(ids) != 4 || !slices.Equal(ids[1:], []string{"msg_a2", "msg_b1", "msg_a1"}) || !strings.HasPrefix(ids[0], "man_") ||
		!slices.Equal(statuses, []string{"purged", "partial", "purged", "purged"}) || all.From != "redis" {
		t.Fatalf("newest first: ids %q statuses %q from %s", ids, statuses, all.From)
	}
	for i := 1; i < len(all.Records); i++ {
		if all.Records[i].Time.After(all.Records[i-1].Time) {
			t.Errorf("record %d is newer than record %d", i, i-1)
		}
	}
	a1 := all.Records[3]
	if a1.Source != "hook" || a1.Page != "p0" || a1.Zone != harness.TestZone || a1.HTTPStatus != 200 || a1.Plan.URLs != 22 || a1.Plan.Tags != 1 ||
		a1.Plan.Keys != 3 || len(a1.Results) != 2 || a1.Results[0] != (audit.BackendResult{Backend: "cloudflare", Status: "ok", Items: 23, Calls: 2}) {
		t.Errorf("record of msg_a1: %+v", a1)
	}
	if r := all.Records[1]; r.HTTPStatus != 502 || !strings.Contains(r.Results[0].Error, "HTTP 500") {
		t.Errorf("record of the failed purge: %+v", r)
	}

	if l := h.Purges("?limit=2", 2); len(l.Records) != 2 || l.Records[1].ID != "msg_a2" {
		t.Errorf("limit=2: %+v", l.Records)
	}
	if l := h.Purges("?page_id=p0", 2); len(l.Records) != 2 || l.Records[0].ID != "msg_a2" || l.Records[1].ID != "msg_a1" {
		t.Errorf("page_id=p0: %+v", l.Records)
	}
	if l := h.Purges("?status=partial", 1); len(l.Records) != 1 || l.Records[0].ID != "msg_a2" {
		t.Errorf("status=partial: %+v", l.Records)
	}
	if l := h.Purges("?page_id=p1&status=purged&limit=5", 1); len(l.Records) != 1 || l.Records[0].ID != "msg_b1" {
		t.Errorf("page_id=p1&status=purged: %+v", l.Records)
	}
	if l := h.Purges("?page_id=nope", 0); len(l.Records) != 0 {
		t.Errorf("unknown page: %+v", l.Records)
	}

	for _, tc := range []struct {
		query, token string
		want         int
	}{{"", "", 401}, {"", "wrong", 401}, {"?limit=0", harness.TestAPIToken, 400}, {"?limit=x", harness.TestAPIToken, 400}, {"?limit=1001", harness.TestAPIToken, 400},
		{"?status=bogus", harness.TestAPIToken, 400}, {"?source=bogus", harness.TestAPIToken, 400}} {
		req, _ := http.NewRequest(http.MethodGet, h.Base+"/v1/purges"+tc.query, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /v1/purges%s with %q: %d, want %d", tc.query, tc.token, resp.StatusCode, tc.want)
		}
	}
	if _, body := h.Get("/metrics"); strings.Contains(body, harness.TestAPIToken) {
		t.Error("token leaked")
	}
	if strings.Contains(h.Logs.String(), harness.TestAPIToken) || strings.Contains(h.Logs.String(), harness.TestCFToken) {
		t.Error("a token leaked into the logs")
	}
}

func TestPurgesAPIFallsBackToMemoryWithRedisDown(t *testing.T) {
	srv := redistest.StartServer(t)
	h := harness.StartOn(t, srv.URL(), "ep:", cfstub.Options{}, nil)
	h.WaitReady()
	auth := map[string]string{"Authorization": "Bearer " + harness.TestAPIToken}

	h.SendEvent("msg_before", []byte(`{"type":"incident.updated","page_id":"p0"}`))
	h.Purges("", 1)
	srv.Stop()
	code, body := h.Post("/v1/purge", []byte(`{"urls":["https://p0.status.example.com/during"]}`), auth)
	if code != http.StatusOK {
		t.Fatalf("manual purge with Redis down: %d %s", code, body)
	}
	during := harness.DecodeAnswer(t, body).ID

	l := h.Purges("", 2)
	if l.From != "memory" || l.Warning == "" || len(l.Records) != 2 || l.Records[0].ID != during || l.Records[1].ID != "msg_before" {
		t.Errorf("with Redis down: %+v", l)
	}
	if l := h.Purges("?source=manual", 1); len(l.Records) != 1 || l.Records[0].ID != during {
		t.Errorf("filter in memory: %+v", l.Records)
	}

	// Redis is back, empty: the record only memory has is still listed.
	srv.Restart()
	h.WaitReady()
	h.SendEvent("msg_after", []byte(`{"type":"incident.updated","page_id":"p0"}`))
	l = h.Purges("", 2)
	var ids []string
	for _, r := range l.Records {
		ids = append(ids, r.ID)
	}
	if l.From != "redis" || !slices.Equal(ids, []string{"msg_after", during}) {
		t.Errorf("after Redis came back: from %s, ids %q", l.From, ids)
	}
	// At least the purge made during the outage; records right after it
	// may go to memory too (the writer waits a moment before retrying Redis).
	if n := harness.Sample(h.Scrape()["edgepurge_audit_memory_fallbacks_total"], nil).GetCounter().GetValue(); n < 1 || n > 2 {
		t.Errorf("memory fallbacks counted: %v", n)
	}
}

func TestMetricsNamesTypesAndFreshness(t *testing.T) {
	prefix := redistest.Prefix(t)
	h := harness.Start(t, cfstub.Options{}, withCanary(prefix))
	h.WaitReady()
	occurred := time.Now().Add(-7 * time.Second).UTC().Format(time.RFC3339Nano)
	if code, body := h.SendEvent("msg_lag", []byte(`{"type":"incident.updated","page_id":"p0","occurred_at":"`+occurred+`"}`)); code != 200 {
		t.Fatalf("event: %d %s", code, body)
	}
	h.SendEvent("msg_plain", []byte(`{"type":"component.updated","page_id":"p0","component_ids":["c1"]}`))
	h.Post("/v1/hooks/events", []byte(`{}`), nil) // rejected
	h.Purges("?source=hook", 2)

	mfs := h.Scrape()
	types := map[string]dto.MetricType{
		"edgepurge_events_total":                          dto.MetricType_COUNTER,
		"edgepurge_backend_purge_duration_seconds":        dto.MetricType_HISTOGRAM,
		"edgepurge_freshness_lag_seconds":                 dto.MetricType_HISTOGRAM,
		"edgepurge_panics_total":                          dto.MetricType_COUNTER,
		"edgepurge_ready":                                 dto.MetricType_GAUGE,
		"edgepurge_build_info":                            dto.MetricType_GAUGE,
		"edgepurge_cdn_calls_total":                       dto.MetricType_COUNTER,
		"edgepurge_cdn_items_per_call":                    dto.MetricType_HISTOGRAM,
		"edgepurge_cdn_requests_total":                    dto.MetricType_COUNTER,
		"edgepurge_audit_dropped_total":                   dto.MetricType_COUNTER,
		"edgepurge_audit_memory_fallbacks_total":          dto.MetricType_COUNTER,
		"edgepurge_canary_runs_total":                     dto.MetricType_COUNTER,
		"edgepurge_canary_last_success_timestamp_seconds": dto.MetricType_GAUGE,
		"edgepurge_breaker_state":                         dto.MetricType_GAUGE,
	}
	for name, want := range types {
		mf := mfs[name]
		if mf == nil {
			t.Errorf("%s not exposed", name)
			continue
		}
		if mf.GetType() != want {
			t.Errorf("%s: TYPE %s, want %s", name, mf.GetType(), want)
		}
	}
	// Conventions: counters and only counters end in _total; every
	// edgepurge histogram is in seconds unless it counts items.
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "edgepurge_") {
			continue
		}
		if isCounter := mf.GetType() == dto.MetricType_COUNTER; isCounter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s: TYPE %s and the _total suffix disagree", name, mf.GetType())
		}
		if mf.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds") && !strings.Contains(name, "items") {
			t.Errorf("%s: a histogram not in base units", name)
		}
	}

	if m := harness.Sample(mfs["edgepurge_events_total"], map[string]string{"source": "hook", "outcome": "purged"}); m.GetCounter().GetValue() != 2 {
		t.Errorf("events purged = %v", m)
	}
	if m := harness.Sample(mfs["edgepurge_events_total"], map[string]string{"source": "hook", "outcome": "rejected"}); m.GetCounter().GetValue() != 1 {
		t.Errorf("events rejected = %v", m)
	}
	lag := harness.Sample(mfs["edgepurge_freshness_lag_seconds"], nil).GetHistogram()
	if lag.GetSampleCount() != 1 || lag.GetSampleSum() < 7 || lag.GetSampleSum() > 60 {
		t.Errorf("freshness lag: %d samples, sum %.3f s, want 1 sample of 7 s and a little", lag.GetSampleCount(), lag.GetSampleSum())
	}
	for _, b := range lag.GetBucket() {
		if b.GetUpperBound() == 5 && b.GetCumulativeCount() != 0 || b.GetUpperBound() == 60 && b.GetCumulativeCount() != 1 {
			t.Errorf("lag bucket le=%v holds %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	if m := harness.Sample(mfs["edgepurge_cdn_requests_total"], map[string]string{"backend": "cloudflare", "zone": harness.TestZone, "status": "200"}); m.GetCounter().GetValue() < 3 {
		t.Errorf("cdn requests by zone and status: %v", m)
	}
	last := harness.Sample(mfs["edgepurge_canary_last_success_timestamp_seconds"], nil).GetGauge().GetValue()
	if ago := time.Since(time.Unix(0, int64(last*1e9))); ago < 0 || ago > time.Minute {
		t.Errorf("canary last success %v ago", ago)
	}
	if m := harness.Sample(mfs["edgepurge_ready"], map[string]string{"check": "canary"}); m.GetGauge().GetValue() != 1 {
		t.Errorf("ready{check=canary} = %v", m)
	}
	if m := harness.Sample(mfs["edgepurge_audit_dropped_total"], nil); m.GetCounter().GetValue() != 0 {
		t.Errorf("audit drops: %v", m)
	}
}
