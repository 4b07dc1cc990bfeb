package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
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

func bothHosts(paths ...string) []string {
	var out []string
	for _, h := range []string{harness.TestHostA, harness.TestHostB} {
		for _, p := range paths {
			out = append(out, "https://"+h+p)
		}
	}
	slices.Sort(out)
	return out
}

var incidentPaths = []string{
	"/", "/history", "/history.rss", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json",
	"/embed/script.js", "/embed/frame",
	"/incidents/inc1", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json",
}

func TestSignedHookPurgesCDNAndRedis(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	ctx := context.Background()
	rdb := redistest.Client(t)
	summary := h.Prefix + "statuspage:p0:summary"
	incident := h.Prefix + "statuspage:p0:incident:inc1"
	set := h.Prefix + "statuspage:p0:fragments"
	member := h.Prefix + "fragment:1"
	bystander := h.Prefix + "statuspage:p1:summary"
	for _, k := range []string{summary, incident, member, bystander} {
		rdb.Set(ctx, k, "cached", 0)
	}
	rdb.SAdd(ctx, set, member)

	body := []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1","occurred_at":"2026-11-26T18:00:00Z","urls":["https://p0.status.example.com/custom"],"tags":["custom-tag"]}`)
	code, raw := h.SendEvent("msg_e2e_1", body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.ID != "msg_e2e_1" || a.Status != chain.StatusPurged {
		t.Errorf("id, status = %q, %q", a.ID, a.Status)
	}
	wantURLs := append(bothHosts(incidentPaths...), "https://p0.status.example.com/custom")
	slices.Sort(wantURLs)
	if !slices.Equal(a.Plan.URLs, wantURLs) {
		t.Errorf("plan URLs:\n got %q\nwant %q", a.Plan.URLs, wantURLs)
	}
	purged := h.Stub.URLsPurged(harness.TestZone)
	slices.Sort(purged)
	if !slices.Equal(purged, wantURLs) {
		t.Errorf("stand-in purged:\n got %q\nwant %q", purged, wantURLs)
	}
	tags := h.Stub.Purged(harness.TestZone, cfstub.KindTags)
	if len(tags) != 2 || tags["custom-tag"].IsZero() || tags["page:p0"].IsZero() {
		t.Errorf("stand-in tags = %v", tags)
	}
	// 23 URLs and 2 tags: one URL call and one tag call.
	if calls := h.Stub.PurgeCalls(); len(calls) != 2 {
		t.Errorf("stand-in saw %d calls, want 2: %+v", len(calls), calls)
	}
	if len(a.Results) != 2 || a.Results[0].Backend != "cloudflare" || a.Results[0].Items != 25 || a.Results[0].Calls != 2 ||
		a.Results[1].Backend != "redis" || a.Results[1].Status != "ok" {
		t.Errorf("results = %+v", a.Results)
	}
	n, _ := rdb.Exists(ctx, summary, incident, set, member).Result()
	if n != 0 {
		t.Errorf("%d of the purged keys still exist", n)
	}
	if v, _ := rdb.Get(ctx, bystander).Result(); v != "cached" {
		t.Errorf("another page's key was touched: %q", v)
	}
}

func TestStatuspageHookPurges(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com", "{page_id}.custom.test"}}
	})
	h.WaitReady()
	body, err := os.ReadFile("../../examples/statuspage-incident.json")
	if err != nil {
		t.Fatal(err)
	}
	code, raw := h.Post("/v1/hooks/statuspage/"+harness.TestSPToken, body, nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if !strings.HasPrefix(a.ID, "sp_") || a.Status != chain.StatusPurged {
		t.Errorf("answer %+v", a)
	}
	purged := h.Stub.URLsPurged(harness.TestZone)
	for _, want := range []string{
		"https://p7xk3m9q2w1z.status.example.com/incidents/i8d3f0g5h2j4",
		"https://p7xk3m9q2w1z.custom.test/api/v2/summary.json",
	} {
		if !slices.Contains(purged, want) {
			t.Errorf("stand-in did not purge %s (got %d URLs)", want, len(purged))
		}
	}
	if len(purged) != 22 {
		t.Errorf("purged %d URLs, want 22 (11 paths on 2 hosts): %q", len(purged), purged)
	}

	if code, raw := h.Post("/v1/hooks/statuspage/wrong-token", body, nil); code != http.StatusUnauthorized || strings.Contains(string(raw), harness.TestSPToken) {
		t.Errorf("wrong token: %d %s", code, raw)
	}
}

// seventyURLs is a page whose incident plan is exactly 70 URLs: 35 paths on 2 hosts.
func seventyURLs(cfg *config.Config) {
	var paths []string
	for i := range 35 {
		paths = append(paths, fmt.Sprintf("/p%02d", i))
	}
	pr := cfg.Pages[harness.TestPage]
	pr.Paths = &config.Paths{Common: paths, Incident: []string{}, Component: []string{}, Maintenance: []string{}}
	pr.Tags = nil
	cfg.Pages[harness.TestPage] = pr
}

func TestURLsAreSplitAtTheCallLimit(t *testing.T) {
	for _, tc := range []struct {
		limit     int
		wantCalls []int
	}{{100, []int{70}}, {30, []int{30, 30, 10}}} {
		t.Run(fmt.Sprint("limit ", tc.limit), func(t *testing.T) {
			h := harness.Start(t, cfstub.Options{MaxItemsPerCall: 100}, func(cfg *config.Config) {
				seventyURLs(cfg)
				cfg.Cloudflare.MaxURLsPerCall = tc.limit
			})
			h.WaitReady()
			code, raw := h.SendEvent("msg_split", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, raw)
			}
			var sizes []int
			for _, c := range h.Stub.PurgeCalls() {
				sizes = append(sizes, len(c.Items))
			}
			slices.Sort(sizes)
			want := slices.Clone(tc.wantCalls)
			slices.Sort(want)
			if !slices.Equal(sizes, want) {
				t.Errorf("call sizes = %v, want %v", sizes, want)
			}
			if got := len(h.Stub.URLsPurged(harness.TestZone)); got != 70 {
				t.Errorf("purged %d distinct URLs, want 70", got)
			}
			if a := harness.DecodeAnswer(t, raw); a.Results[0].Calls != len(want) || a.Results[0].Items != 70 {
				t.Errorf("result = %+v", a.Results[0])
			}
		})
	}
}

func TestCDNFailureIsA502NamingTheError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failure   cfstub.Failure
		wantCode  int
		retryable bool
	}{
		{"500", cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"}, 10000, true},
		{"403", cfstub.Failure{Status: 403, Codes: []int{10000}, Message: "Authentication error"}, 10000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Without the journal (which answers a retryable failure 202).
			h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) { cfg.Journal.Disabled = true })
			h.WaitReady()
			h.Stub.SetFailure(tc.failure)
			code, raw := h.SendEvent("msg_fail_"+tc.name, []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
			if code != http.StatusBadGateway {
				t.Fatalf("status %d, want 502: %s", code, raw)
			}
			a := harness.DecodeAnswer(t, raw)
			cf := a.Results[0]
			if a.Status != chain.StatusPartial || cf.Status != "failed" || !slices.Contains(cf.ErrorCodes, tc.wantCode) ||
				!strings.Contains(cf.Error, "HTTP "+tc.name) || cf.Retryable != tc.retryable {
				t.Errorf("answer = %s", raw)
			}
			if a.Results[1].Status != "ok" {
				t.Errorf("redis should still have succeeded: %+v", a.Results[1])
			}
			if strings.Contains(string(raw), harness.TestCFToken) || strings.Contains(h.Logs.String(), harness.TestCFToken) {
				t.Error("the Cloudflare token leaked into the answer or the logs")
			}
			if !strings.Contains(h.Logs.String(), `"msg":"event not purged"`) {
				t.Error("the failure was not logged")
			}
		})
	}
}

func TestUnknownPageIs422(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	code, raw := h.SendEvent("msg_unknown", []byte(`{"type":"incident.updated","page_id":"nobody"}`))
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "unknown page") {
		t.Errorf("status %d: %s", code, raw)
	}
	if n := len(h.Stub.PurgeCalls()); n != 0 {
		t.Errorf("stand-in saw %d calls", n)
	}
}

func TestRegistryPageIsPurgedOnItsHosts(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}}
	})
	h.WaitReady()
	rdb := redistest.Client(t)
	rdb.HSet(context.Background(), h.Prefix+"page:reg9", "hosts", "status.customer.test, reg9.status.example.com")
	code, raw := h.SendEvent("msg_reg", []byte(`{"type":"component.updated","page_id":"reg9","component_ids":["c1"]}`))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, raw)
	}
	purged := h.Stub.URLsPurged(harness.TestZone)
	if !slices.Contains(purged, "https://status.customer.test/uptime/c1") || len(purged) != 2*11 {
		t.Errorf("purged %q", purged)
	}
}

func TestDryRunPurgesNothing(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) { cfg.DryRun = true })
	h.WaitReady()
	rdb := redistest.Client(t)
	key := h.Prefix + "statuspage:p0:summary"
	rdb.Set(context.Background(), key, "cached", 0)
	code, raw := h.SendEvent("msg_dry", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.Status != chain.StatusDryRun || len(a.Plan.URLs) != 22 {
		t.Errorf("answer %s", raw)
	}
	if n := len(h.Stub.PurgeCalls()); n != 0 {
		t.Errorf("dry run made %d CDN calls", n)
	}
	if v, _ := rdb.Get(context.Background(), key).Result(); v != "cached" {
		t.Error("dry run deleted a Redis key")
	}
}

func TestManualPurge(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	auth := map[string]string{"Authorization": "Bearer " + harness.TestAPIToken}
	body := []byte(`{"urls":["https://p0.status.example.com/a"],"prefixes":["p0.status.example.com/api/"],"hosts":["p0.status.example.com"]}`)
	code, raw := h.Post("/v1/purge", body, auth)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, raw)
	}
	if got := h.Stub.Purged(harness.TestZone, cfstub.KindPrefixes); len(got) != 1 {
		t.Errorf("prefixes purged %v", got)
	}
	if got := h.Stub.Purged(harness.TestZone, cfstub.KindHosts); len(got) != 1 {
		t.Errorf("hosts purged %v", got)
	}
	if code, _ := h.Post("/v1/purge", body, map[string]string{"Authorization": "Bearer nope"}); code != http.StatusUnauthorized {
		t.Errorf("bad bearer: %d", code)
	}
	if code, raw := h.Post("/v1/purge", []byte(`{}`), auth); code != http.StatusBadRequest || !strings.Contains(string(raw), "nothing to purge") {
		t.Errorf("empty manual purge: %d %s", code, raw)
	}
}

func TestBadRequestsTouchNothing(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	good := []byte(`{"type":"incident.updated","page_id":"p0"}`)

	if code, raw := h.Post("/v1/hooks/events", good, map[string]string{"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}); code != http.StatusUnauthorized || !strings.Contains(string(raw), "signature invalid") {
		t.Errorf("bad signature: %d %s", code, raw)
	}
	if code, raw := h.SendEvent("msg_bad_json", []byte(`{"type":`)); code != http.StatusBadRequest || !strings.Contains(string(raw), "offset") {
		t.Errorf("truncated JSON: %d %s", code, raw)
	}
	if code, raw := h.SendEvent("msg_no_page", []byte(`{"type":"incident.updated"}`)); code != http.StatusBadRequest || !strings.Contains(string(raw), "page_id") {
		t.Errorf("missing page_id: %d %s", code, raw)
	}
	own := h.Cfg.Dedupe.Prefix + "msg_x"
	if code, raw := h.SendEvent("msg_own_key", fmt.Appendf(nil, `{"type":"incident.updated","page_id":"p0","keys":[%q]}`, own)); code != http.StatusBadRequest || !strings.Contains(string(raw), "reserved") {
		t.Errorf("a key of edgepurge's own state: %d %s", code, raw)
	}
	req, _ := http.NewRequest(http.MethodPost, h.Base+"/v1/hooks/events", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %v %v", resp, err)
	}
	if code, _ := h.Get("/v1/hooks/events"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET on a hook: %d", code)
	}
	// A declared 100 MB body is refused from its headers, before it is read.
	if a := h.Send("POST /v1/hooks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{}"); a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 MB declared: %d %s", a.Status, a.Body)
	}
	if n := len(h.Stub.PurgeCalls()); n != 0 {
		t.Errorf("stand-in saw %d calls", n)
	}
	if strings.Contains(h.Logs.String(), harness.TestSPToken) || strings.Contains(h.Logs.String(), harness.TestAPIToken) {
		t.Error("a token leaked into the logs")
	}
}

func TestMetricsAfterTraffic(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	h.SendEvent("msg_metrics", []byte(`{"type":"incident.updated","page_id":"p0","occurred_at":"2026-01-01T00:00:00Z"}`))
	code, body := h.Get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`edgepurge_events_total{outcome="purged",source="hook"} 1`,
		`edgepurge_backend_purge_duration_seconds_count{backend="cloudflare",status="ok"} 1`,
		`edgepurge_freshness_lag_seconds_count 1`,
		`edgepurge_ready{check="redis"} 1`,
		`edgepurge_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Redis is shared by every instance: down, it would fail every instance's
// readiness at once and the load balancer would refuse the hooks itself.
// So readiness holds and names it degraded; with readiness.shared_grace
// set, it fails past the grace. Liveness never follows it.
func TestReadinessWithRedisDown(t *testing.T) {
	for _, grace := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			srv := redistest.StartServer(t)
			h := harness.StartOn(t, srv.URL(), "ep:", cfstub.Options{}, func(cfg *config.Config) {
				cfg.Readiness.SharedGrace, cfg.Readiness.Window = grace, time.Second
			})
			h.WaitReady()
			srv.Stop()
			if grace == 0 {
				h.WaitFor(func(code int, r harness.Readyz) bool {
					return code == http.StatusOK && slices.Contains(r.Degraded, "redis") && len(r.Failing) == 0
				})
				_, v := h.VerboseReadyz()
				if c, _ := v.Check("redis"); c.OK || c.Gating || c.Scope != "shared" || c.Error == "" {
					t.Errorf("redis check %+v", c)
				}
			} else {
				h.WaitFor(func(code int, r harness.Readyz) bool {
					return code == http.StatusServiceUnavailable && slices.Equal(r.Failing, []string{"redis"})
				})
			}
			if code, _ := h.Get("/healthz"); code != http.StatusOK {
				t.Errorf("liveness must not depend on Redis: %d", code)
			}
			srv.Restart()
			h.WaitReady()
		})
	}
}

// A rejected token is a shared failure too (every instance has the same
// token): the probe purge of the zone fails, so the zone's check is
// degraded, named with the reason, the token never shown.
func TestReadinessWithRejectedToken(t *testing.T) {
	h := harness.Start(t, cfstub.Options{Tokens: []string{"another-token"}}, func(cfg *config.Config) {
		cfg.Probe = config.Probe{Interval: time.Second}
		cfg.Readiness.Window = time.Second
	})
	zone := "cloudflare zone " + harness.TestZone
	h.WaitFor(func(code int, r harness.Readyz) bool {
		return code == http.StatusOK && slices.Equal(r.Degraded, []string{zone})
	})
	_, v := h.VerboseReadyz()
	if c, _ := v.Check(zone); !strings.Contains(c.Error, "HTTP 403") || !strings.Contains(c.Error, "invalid") {
		t.Errorf("zone check %+v: want the refusal and that the token is invalid", c)
	}
	if _, body := h.Get("/readyz?verbose"); strings.Contains(body, harness.TestCFToken) {
		t.Error("readyz shows the token")
	}
}

func TestDrainTurnsReadinessRed(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	h.App.Health.Drain()
	code, r := h.Readyz()
	if code != http.StatusServiceUnavailable || !slices.Contains(r.Failing, "draining") {
		t.Errorf("draining: %d %+v", code, r)
	}
}
