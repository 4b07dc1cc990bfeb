package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/varnishtest"
)

// The public page, read through a real Varnish: cached, changed at the
// origin, purged by a Statuspage notification, and fresh on the next read.
func TestVarnishServesTheNewPageAfterAHook(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{v.URL()}, nil)
	reads := []read{
		{spHost, "/", ""},
		{spHost, "/api/v2/summary.json", ""},
		{spHost, "/incidents/" + spIncident, ""},
		{spHost, "/history", "text/html"},
		{spHost, "/history", "application/json"},
	}
	warm(t, v.Addr, 1, reads...)
	o.publish(2)
	for _, r := range reads {
		expectRead(t, v.Addr, r, 1, "HIT") // stale until purged
	}

	code, raw := h.StatuspageIncident()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	// 11 URLs and the page's tag, on the one node.
	want := chain.BackendResult{Backend: "varnish", Status: "ok", Items: 12, Calls: 12}
	if a.Status != chain.StatusPurged || len(a.Results) != 2 || !sameResult(a.Results[0], want) {
		t.Fatalf("answer %s", raw)
	}
	if n := a.Results[0].Nodes; len(n) != 1 || n[0].Node != v.URL() || n[0].Status != "ok" || n[0].Items != 12 || n[0].Calls != 12 {
		t.Errorf("nodes %+v", n)
	}
	for _, r := range reads {
		expectRead(t, v.Addr, r, 2, "MISS")
	}
}

// sameResult compares what identifies a result, not its timing.
func sameResult(got, want chain.BackendResult) bool {
	return got.Backend == want.Backend && got.Status == want.Status && got.Items == want.Items && got.Calls == want.Calls
}

func TestVarnishTagPurgeEvictsTaggedObjectsOnly(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{v.URL()}, nil)
	tagged := []read{
		{spHost, "/", ""},
		{spHost, "/widget/custom", ""},           // in no plan: only the tag finds it
		{spHost, "/incidents/" + spIncident, ""}, // tagged by Cache-Tag
	}
	untouched := []read{
		{spHost, "/robots.txt", ""},           // untagged
		{"other.status.example.com", "/", ""}, // page:other
		{"other.status.example.com", "/incidents/" + spIncident, ""},
	}
	warm(t, v.Addr, 1, append(slices.Clone(tagged), untouched...)...)
	o.publish(2)

	code, raw := h.ManualPurge(`{"tags":["page:` + spPage + `"]}`)
	if code != http.StatusOK {
		t.Fatalf("purge: %d %s", code, raw)
	}
	if a := harness.DecodeAnswer(t, raw); !sameResult(a.Results[0], chain.BackendResult{Backend: "varnish", Status: "ok", Items: 1, Calls: 1}) {
		t.Errorf("answer %s", raw)
	}
	for _, r := range tagged {
		expectRead(t, v.Addr, r, 2, "MISS")
	}
	for _, r := range untouched {
		expectRead(t, v.Addr, r, 1, "HIT")
	}
}

func TestVarnishNodeDownIsNotA200(t *testing.T) {
	o := newStatusOrigin(t)
	up := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	down := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{up.URL(), down.URL()}, nil)
	home := read{spHost, "/", ""}
	warm(t, up.Addr, 1, home)
	down.Stop()
	o.publish(2)

	code, raw := h.StatuspageIncident()
	// A node down is a failure that may pass: journaled for re-drive.
	if code != http.StatusAccepted {
		t.Fatalf("hook with a node down: %d, want 202 (journaled): %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	r := a.Results[0]
	if a.Status != chain.StatusJournaled || a.JournalID == "" || r.Backend != "varnish" || r.Status != "failed" || !r.Retryable ||
		!strings.HasPrefix(r.Error, "purge varnish: 1 of 2 nodes failed: node "+down.URL()+": ") {
		t.Errorf("answer %s", raw)
	}
	if len(r.Nodes) != 2 {
		t.Fatalf("nodes %+v", r.Nodes)
	}
	if n := r.Nodes[0]; n.Node != up.URL() || n.Status != "ok" || n.Items != 12 || n.Error != "" {
		t.Errorf("the node that is up: %+v", n)
	}
	if n := r.Nodes[1]; n.Node != down.URL() || n.Status != "failed" || n.Items != 0 || !strings.Contains(n.Error, "connection refused") {
		t.Errorf("the node that is down: %+v", n)
	}
	// The node that is up was purged all the same.
	expectRead(t, up.Addr, home, 2, "MISS")
}

func TestVarnishRefusesPurgesFromOutsideTheACL(t *testing.T) {
	o := newStatusOrigin(t)
	// Only 127.0.0.2 may purge; edgepurge and the test dial from 127.0.0.1.
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr(), ACL: []string{`"127.0.0.2"`}})
	h := startVarnishApp(t, []string{v.URL()}, nil)
	home := read{spHost, "/", ""}
	warm(t, v.Addr, 1, home)
	o.publish(2)

	for _, from := range []string{"127.0.0.1", "127.0.0.3"} {
		if code := purgeFrom(t, from, v.Addr, "PURGE", spHost, "/", nil); code != http.StatusMethodNotAllowed {
			t.Errorf("PURGE from %s: %d, want 405", from, code)
		}
		if code := purgeFrom(t, from, v.Addr, "PURGE", spHost, "/", map[string]string{"xkey": "page:" + spPage}); code != http.StatusMethodNotAllowed {
			t.Errorf("xkey PURGE from %s: %d, want 405", from, code)
		}
		if code := purgeFrom(t, from, v.Addr, "BAN", spHost, "/", map[string]string{"X-Ban-All": "true"}); code != http.StatusMethodNotAllowed {
			t.Errorf("BAN from %s: %d, want 405", from, code)
		}
	}
	code, raw := h.StatuspageIncident()
	if code != http.StatusBadGateway {
		t.Fatalf("hook: %d, want 502: %s", code, raw)
	}
	if r := harness.DecodeAnswer(t, raw).Results[0]; r.Status != "failed" || r.Retryable || !strings.Contains(r.Error, "HTTP 405: Not allowed") {
		t.Errorf("varnish result %+v", r)
	}
	expectRead(t, v.Addr, home, 1, "HIT") // nothing was purged

	if code := purgeFrom(t, "127.0.0.2", v.Addr, "PURGE", spHost, "/", nil); code != http.StatusOK {
		t.Errorf("PURGE from 127.0.0.2: %d, want 200", code)
	}
	expectRead(t, v.Addr, home, 2, "MISS")
}

func TestVarnishBansHostsPrefixesAndEverything(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{v.URL()}, nil)
	api := read{spHost, "/api/v2/summary.json", ""}
	lookalike := read{spHost, "/api/v2Xsummary.json", ""} // "." is literal in a prefix
	home := read{spHost, "/", ""}
	other := read{"other.status.example.com", "/", ""}
	warm(t, v.Addr, 1, api, lookalike, home, other)
	o.publish(2)

	steps := []struct {
		body       string
		fresh, hit []read
	}{
		{`{"prefixes":["` + spHost + `/api/v2/summary."]}`, []read{api}, []read{lookalike, home, other}},
		{`{"hosts":["` + strings.ToUpper(spHost) + `"]}`, []read{lookalike, home}, []read{other}},
		{`{"everything":true}`, []read{other}, nil},
	}
	for _, s := range steps {
		if code, raw := h.ManualPurge(s.body); code != http.StatusOK {
			t.Fatalf("purge %s: %d %s", s.body, code, raw)
		}
		for _, r := range s.fresh {
			expectRead(t, v.Addr, r, 2, "MISS")
		}
		for _, r := range s.hit {
			expectRead(t, v.Addr, r, 1, "HIT")
		}
	}
}

func edgeCheckAt(edge string) func(cfg *config.Config) {
	return func(cfg *config.Config) {
		p := cfg.Pages[spPage]
		p.EdgeCheck = &config.EdgeCheck{Enabled: true, Edge: edge}
		cfg.Pages[spPage] = p
	}
}

func TestVerificationSeesTheFreshPage(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{v.URL()}, edgeCheckAt(v.URL()))
	warm(t, v.Addr, 1, read{spHost, "/", ""}, read{spHost, "/api/v2/summary.json", ""})
	o.publish(2)

	code, raw := h.StatuspageIncident()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.Status != chain.StatusPurged || len(a.EdgeChecks) != len(spIncidentPaths) || len(a.Repurge) != 0 {
		t.Fatalf("answer %s", raw)
	}
	for _, c := range a.EdgeChecks {
		if c.Result != chain.CheckVerified || c.Repurged || c.CacheStatus != "MISS" {
			t.Errorf("check %+v", c)
		}
	}
	if got := h.Metric(`edgepurge_edge_checks_total{result="verified"}`); got != `edgepurge_edge_checks_total{result="verified"} 11` {
		t.Errorf("metric %q", got)
	}
	expectRead(t, v.Addr, read{spHost, "/", ""}, 2, "HIT") // cached again, fresh, by the check
}

// A front cache that edgepurge does not purge keeps serving its old copy:
// the check sees it, purges again, still sees it, and does not answer 2xx.
func TestVerificationSeesAStaleFrontCache(t *testing.T) {
	o := newStatusOrigin(t)
	inner := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	front := varnishtest.Start(t, varnishtest.Options{Origin: inner.Addr})
	// The page is these two URLs, both cached by the front: the pre-purge
	// read would cache any other one there just before the purge, and Age
	// cannot tell that copy from a fresh one.
	h := startVarnishApp(t, []string{inner.URL()}, func(cfg *config.Config) {
		edgeCheckAt(front.URL())(cfg)
		p := cfg.Pages[spPage]
		p.Paths = &config.Paths{Common: []string{"/", "/api/v2/summary.json"}, Incident: []string{}, Component: []string{}, Maintenance: []string{}}
		cfg.Pages[spPage] = p
	})
	stale := []read{{spHost, "/", ""}, {spHost, "/api/v2/summary.json", ""}}
	warm(t, front.Addr, 1, stale...)
	o.publish(2)
	// Age counts whole seconds: a copy cached in the second before the
	// purge would pass for one cached after it.
	time.Sleep(1100 * time.Millisecond)

	code, raw := h.StatuspageIncident()
	if code != http.StatusBadGateway {
		t.Fatalf("hook: %d, want 502: %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.Status != chain.StatusStale || a.Results[0].Status != "ok" {
		t.Fatalf("answer %s", raw)
	}
	var checked []string
	for _, c := range a.EdgeChecks {
		checked = append(checked, c.URL)
		if age, _ := strconv.Atoi(c.Age); c.Result != chain.CheckStale || !c.Repurged || c.CacheStatus != "HIT" || age < 1 {
			t.Errorf("check %+v", c)
		}
	}
	if want := []string{"https://" + spHost + "/", "https://" + spHost + "/api/v2/summary.json"}; !slices.Equal(checked, want) {
		t.Errorf("checked %q, want %q", checked, want)
	}
	if len(a.Repurge) != 1 || !sameResult(a.Repurge[0], chain.BackendResult{Backend: "varnish", Status: "ok", Items: 2, Calls: 2}) {
		t.Errorf("repurge %+v", a.Repurge)
	}
	if got := h.Metric(`edgepurge_edge_checks_total{result="stale"}`); got != `edgepurge_edge_checks_total{result="stale"} 2` {
		t.Errorf("metric %q", got)
	}
	expectRead(t, inner.Addr, stale[0], 2, "MISS") // the inner cache was purged
	expectRead(t, front.Addr, stale[0], 1, "HIT")  // the front is not
}

// An edge that re-cached an old copy during the first purge serves it
// fresh after the second: verified, marked repurged, answered 200.
func TestVerificationRepurgesARacingEdge(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	edge := newRacingEdge(t)
	h := startVarnishApp(t, []string{v.URL(), edge.srv.URL}, edgeCheckAt(edge.srv.URL))

	code, raw := h.StatuspageIncident()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	if a.Status != chain.StatusPurged || len(a.EdgeChecks) != 11 {
		t.Fatalf("answer %s", raw)
	}
	for _, c := range a.EdgeChecks {
		if c.Result != chain.CheckVerified || !c.Repurged || c.Age != "0" {
			t.Errorf("check %+v", c)
		}
	}
	if len(a.Repurge) != 1 || !sameResult(a.Repurge[0], chain.BackendResult{Backend: "varnish", Status: "ok", Items: 11, Calls: 22}) || len(a.Repurge[0].Nodes) != 2 {
		t.Errorf("repurge %+v", a.Repurge)
	}
}

func TestCDNOrder(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	for _, tc := range []struct {
		name   string
		edit   func(cfg *config.Config)
		wanted []string
	}{
		{"default: inner cache first", func(*config.Config) {}, []string{"varnish", "cloudflare", "redis"}},
		{"global", func(cfg *config.Config) { cfg.CDNOrder = []string{"cloudflare", "varnish"} }, []string{"cloudflare", "varnish", "redis"}},
		{"per page", func(cfg *config.Config) {
			p := cfg.Pages[harness.TestPage]
			p.CDNOrder = []string{"cloudflare"}
			cfg.Pages[harness.TestPage] = p
		}, []string{"cloudflare", "varnish", "redis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
				cfg.Varnish.Nodes = []string{v.URL()}
				tc.edit(cfg)
			})
			h.WaitReady()
			code, raw := h.SendEvent("msg_order", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, raw)
			}
			var got []string
			for _, r := range harness.DecodeAnswer(t, raw).Results {
				got = append(got, r.Backend)
				if r.Status != "ok" || (r.Backend != "redis" && r.Items != 23) {
					t.Errorf("result %+v", r)
				}
			}
			if !slices.Equal(got, tc.wanted) {
				t.Errorf("order %q, want %q", got, tc.wanted)
			}
		})
	}
}

// A soft purge keeps the object for grace: the next reader may get the old
// copy once while the new one is fetched in the background, then the new.
func TestVarnishSoftPurge(t *testing.T) {
	o := newStatusOrigin(t)
	v := varnishtest.Start(t, varnishtest.Options{Origin: o.addr()})
	h := startVarnishApp(t, []string{v.URL()}, func(cfg *config.Config) { cfg.Varnish.SoftPurge = true })
	home := read{spHost, "/", ""}
	warm(t, v.Addr, 1, home)
	o.publish(2)
	if code, raw := h.ManualPurge(`{"tags":["page:` + spPage + `"]}`); code != http.StatusOK {
		t.Fatalf("purge: %d %s", code, raw)
	}
	want := content(home.host, home.path, "", 2)
	for range 200 {
		if body, _ := fetch(t, v.Addr, home); body == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the soft-purged page never became %q", want)
}
