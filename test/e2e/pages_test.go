package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// otherZone is a second Cloudflare zone the pages tests configure, so that
// an entry may name it.
const otherZone = "aaaa105f4ecef8ad9ca31a8372d0c353"

// pageAnswer is one answer of the pages API.
type pageAnswer struct {
	status int
	etag   string
	body   string
}

// pagesCall sends method path with the API token and body (as JSON when
// not nil) and headers.
func pagesCall(t *testing.T, h *harness.H, method, path string, body any, headers ...string) pageAnswer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := body.(string); ok {
			b = []byte(s)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.Base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+harness.TestAPIToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageAnswer{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: string(b)}
}

// errorOf is an error answer's message.
func errorOf(a pageAnswer) string {
	var e struct{ Error string }
	_ = json.Unmarshal([]byte(a.body), &e)
	return e.Error
}

func decodeInto[T any](t *testing.T, a pageAnswer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v: %s", a.status, err, a.body)
	}
	return v
}

// startPages runs edgepurge with a second zone, no default rule and the
// audit trail under the test's prefix.
func startPages(t *testing.T, edit func(cfg *config.Config)) *harness.H {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Audit.Stream = redistest.Prefix(t) + "audit"
		cfg.Cloudflare.Zones = map[string]cloudflare.Zone{otherZone: {}}
		if edit != nil {
			edit(cfg)
		}
	})
	h.WaitReady()
	return h
}

func TestPagesAPIWriteReadVersionDelete(t *testing.T) {
	h := startPages(t, nil)
	rdb := redistest.Client(t)
	ctx := context.Background()

	a := pagesCall(t, h, http.MethodPut, "/v1/pages/acme", map[string]any{"hosts": []string{"Status.Acme.test", "acme.status.example.com", "status.acme.test"}, "zone": otherZone})
	if a.status != http.StatusCreated || a.etag == "" {
		t.Fatalf("PUT new page: %d %q %s", a.status, a.etag, a.body)
	}
	created := decodeInto[pages.Result](t, a)
	if created.Result != "created" || !reflect.DeepEqual(created.Hosts, []string{"status.acme.test", "acme.status.example.com"}) || `"`+created.ETag+`"` != a.etag {
		t.Errorf("PUT answer: %s (ETag %s)", a.body, a.etag)
	}
	if got := rdb.HGetAll(ctx, h.Prefix+"page:acme").Val(); got["hosts"] != "status.acme.test,acme.status.example.com" || got["zone"] != otherZone || got["version"] != "1" {
		t.Errorf("stored hash: %v", got)
	}

	// GET: the entry, its source and the plan of an incident update.
	g := pagesCall(t, h, http.MethodGet, "/v1/pages/acme?incident_id=inc7", nil)
	v := decodeInto[pages.View](t, g)
	if g.status != http.StatusOK || v.Source != "registry" || v.Zone != otherZone || g.etag != a.etag || v.Plan == nil {
		t.Fatalf("GET: %d %s", g.status, g.body)
	}
	for _, host := range created.Hosts {
		if !slices.Contains(v.Plan.URLs, "https://"+host+"/incidents/inc7") {
			t.Errorf("the plan has no incident URL on %s: %q", host, v.Plan.URLs)
		}
	}
	if v.Plan.Zone != otherZone {
		t.Errorf("plan zone %q", v.Plan.Zone)
	}

	// The same PUT again: idempotent, nothing written, the same ETag.
	again := pagesCall(t, h, http.MethodPut, "/v1/pages/acme", map[string]any{"hosts": []string{"status.acme.test", "acme.status.example.com"}, "zone": otherZone}, "If-Match", a.etag)
	if again.status != http.StatusOK || again.etag != a.etag || decodeInto[pages.Result](t, again).Result != "unchanged" {
		t.Errorf("the same PUT again: %d %s %s", again.status, again.etag, again.body)
	}

	// Two writers read the same ETag; the first wins, the second gets 412.
	first := pagesCall(t, h, http.MethodPut, "/v1/pages/acme", map[string]any{"hosts": []string{"status.acme.test"}}, "If-Match", a.etag)
	if first.status != http.StatusOK || first.etag == a.etag {
		t.Fatalf("first writer: %d %s", first.status, first.body)
	}
	second := pagesCall(t, h, http.MethodPut, "/v1/pages/acme", map[string]any{"hosts": []string{"other.acme.test"}}, "If-Match", a.etag)
	conflict := decodeInto[map[string]string](t, second)
	if second.status != http.StatusPreconditionFailed || `"`+conflict["etag"]+`"` != first.etag || !strings.Contains(conflict["error"], "If-Match") {
		t.Errorf("second writer: %d %s", second.status, second.body)
	}
	if got := rdb.HGet(ctx, h.Prefix+"page:acme", "hosts").Val(); got != "status.acme.test" {
		t.Errorf("after the conflict the hosts are %q", got)
	}

	// The audit trail names who changed what, before and after.
	g = pagesCall(t, h, http.MethodGet, "/v1/pages/acme", nil)
	v = decodeInto[pages.View](t, g)
	if len(v.Changes) != 2 {
		t.Fatalf("changes: %s", g.body)
	}
	upd := v.Changes[0]
	if upd.Actor != "api_token" || upd.Result != "updated" || upd.Before == nil || len(upd.Before.Hosts) != 2 || upd.Before.Zone != otherZone ||
		!reflect.DeepEqual(upd.After, &audit.PageState{Hosts: []string{"status.acme.test"}}) || time.Since(upd.Time) > time.Minute || upd.RequestID == "" {
		t.Errorf("update record: %+v", upd)
	}
	if v.Changes[1].Result != "created" || v.Changes[1].Before != nil {
		t.Errorf("create record: %+v", v.Changes[1])
	}
	if n := rdb.XLen(ctx, h.Cfg.Audit.Stream+":pages").Val(); n != 2 {
		t.Errorf("%d records in %s:pages, want 2", n, h.Cfg.Audit.Stream)
	}

	// DELETE with a stale ETag is refused; with the current one it goes.
	if d := pagesCall(t, h, http.MethodDelete, "/v1/pages/acme", nil, "If-Match", a.etag); d.status != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale ETag: %d %s", d.status, d.body)
	}
	d := pagesCall(t, h, http.MethodDelete, "/v1/pages/acme", nil, "If-Match", first.etag)
	if d.status != http.StatusOK || decodeInto[pages.Result](t, d).Result != "deleted" {
		t.Errorf("DELETE: %d %s", d.status, d.body)
	}
	if d := pagesCall(t, h, http.MethodDelete, "/v1/pages/acme", nil); d.status != http.StatusOK || decodeInto[pages.Result](t, d).Result != "absent" {
		t.Errorf("DELETE again: %d %s", d.status, d.body)
	}
	if g := pagesCall(t, h, http.MethodGet, "/v1/pages/acme", nil); g.status != http.StatusNotFound || !strings.Contains(g.body, "no default rule") {
		t.Errorf("GET after DELETE: %d %s", g.status, g.body)
	}
	if rec := pagesCall(t, h, http.MethodGet, "/v1/pages/acme", nil); rec.status == http.StatusOK {
		t.Error("deleted page still answered")
	}
	if got := h.Counter("edgepurge_page_changes_total", map[string]string{"op": "set", "result": "created"}); got != 1 {
		t.Errorf("edgepurge_page_changes_total{op=set,result=created} = %v", got)
	}
	if got := h.Counter("edgepurge_page_writes_refused_total", map[string]string{"reason": "conflict"}); got != 2 {
		t.Errorf("edgepurge_page_writes_refused_total{reason=conflict} = %v", got)
	}
}

func TestPagesAPIRefusesWhatPlanningWouldAndStoresNothing(t *testing.T) {
	h := startPages(t, func(cfg *config.Config) { cfg.Limits.MaxPlanURLs = 200 })
	rdb := redistest.Client(t)
	many := make([]string, pages.MaxHosts+1)
	for i := range many {
		many[i] = fmt.Sprintf("h%d.example.com", i)
	}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		want   string
	}{
		{"invalid host", "/v1/pages/bad", map[string]any{"hosts": []string{"ok.example.com", "bad_host.example.com/x"}}, 422, `field "hosts[1]": "bad_host.example.com/x" is not a hostname`},
		{"empty host", "/v1/pages/bad", map[string]any{"hosts": []string{" "}}, 422, `field "hosts[0]"`},
		{"no hosts", "/v1/pages/bad", map[string]any{"zone": otherZone}, 422, `field "hosts": required`},
		{"invalid zone", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "zone": "no such zone"}, 422, `field "zone": "no such zone": a zone is 1 to 64`},
		{"unknown zone", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "zone": "bbbb105f4ecef8ad9ca31a8372d0c353"}, 422, `field "zone": "bbbb105f4ecef8ad9ca31a8372d0c353" is not a zone of this configuration`},
		{"too many hosts", "/v1/pages/bad", map[string]any{"hosts": many}, 422, `field "hosts": 101 hostnames, more than the limit of 100`},
		{"plan over the limit", "/v1/pages/bad", map[string]any{"hosts": many[:20]}, 422, `more than limits.max_plan_urls (200)`},
		{"configured page", "/v1/pages/" + harness.TestPage, map[string]any{"hosts": []string{"a.example.com"}}, 409, `configured in the config file (pages.p0)`},
		{"invalid id", "/v1/pages/a..b", map[string]any{"hosts": []string{"a.example.com"}}, 422, `field "id"`},
		{"config-only option", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "edge_check": map[string]any{"enabled": true, "edge": "http://10.0.0.1"}}, 400, `a page option of the config file only`},
		{"bad scheme", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "schemes": []string{"https", "ftp"}}, 422, `field "schemes[1]": "ftp": must be http or https`},
		{"bad tag template", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "tags": []string{"page:{nope}"}}, 422, `field "tags[0]"`},
		{"bad path", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "paths": map[string]any{"common": []string{"no-slash"}}}, 422, `must start with /`},
		{"unknown CDN", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "cdn_order": []string{"cloudflare", "limelight"}}, 422, `field "cdn_order[1]": "limelight"`},
		{"reserved key", "/v1/pages/bad", map[string]any{"hosts": []string{"a.example.com"}, "keys": []string{h.Cfg.Dedupe.Prefix + "x"}}, 422, `field "keys[0]"`},
		{"unknown field", "/v1/pages/bad", map[string]any{"host": []string{"a.example.com"}}, 400, `field "host": unknown field`},
		{"malformed", "/v1/pages/bad", `{"hosts":`, 400, `malformed JSON`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := pagesCall(t, h, http.MethodPut, tc.path, tc.body)
			if a.status != tc.status || !strings.Contains(errorOf(a)+a.body, tc.want) {
				t.Errorf("%d %s; want %d containing %s", a.status, a.body, tc.status, tc.want)
			}
		})
	}
	// No token, a wrong one, not JSON, a wrong method.
	req, _ := http.NewRequest(http.MethodPut, h.Base+"/v1/pages/bad", strings.NewReader(`{"hosts":["a.example.com"]}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %v %v", resp.StatusCode, err)
	}
	if a := pagesCall(t, h, http.MethodPut, "/v1/pages/bad", nil); a.status != http.StatusUnsupportedMediaType {
		t.Errorf("no JSON: %d %s", a.status, a.body)
	}
	if a := pagesCall(t, h, http.MethodPost, "/v1/pages/bad", nil); a.status != http.StatusMethodNotAllowed || !strings.Contains(a.body, "DELETE, GET, HEAD, PUT") {
		t.Errorf("POST: %d %s", a.status, a.body)
	}
	keys, _ := rdb.Keys(context.Background(), h.Prefix+"page:*").Result()
	if len(keys) != 0 {
		t.Errorf("refused writes stored %q", keys)
	}
	if n := rdb.Exists(context.Background(), h.Cfg.Audit.Stream+":pages").Val(); n != 0 {
		t.Error("refused writes are in the audit trail")
	}
}

func TestPagesAPIBulkIsAllOrNothing(t *testing.T) {
	h := startPages(t, nil)
	rdb := redistest.Client(t)
	ctx := context.Background()
	put := func(body any) pageAnswer { return pagesCall(t, h, http.MethodPut, "/v1/pages", body) }
	a := put(map[string]any{"pages": []map[string]any{
		{"id": "b1", "hosts": []string{"b1.example.com"}},
		{"id": "b2", "hosts": []string{"b2.example.com", "www.b2.test"}, "zone": otherZone},
		{"id": "b3", "hosts": []string{"b3.example.com"}},
	}})
	if a.status != http.StatusOK {
		t.Fatalf("bulk: %d %s", a.status, a.body)
	}
	res := decodeInto[struct{ Results []pages.Result }](t, a).Results
	if len(res) != 3 || res[1].Result != "created" || res[1].ETag == "" {
		t.Fatalf("bulk results: %s", a.body)
	}
	before := func() map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, id := range []string{"b1", "b2", "b3", "b4"} {
			out[id] = rdb.HGetAll(ctx, h.Prefix+"page:"+id).Val()
		}
		return out
	}
	was := before()

	// One bad entry (the third), one stale ETag, a duplicate: nothing changes.
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"one bad host", map[string]any{"pages": []map[string]any{
			{"id": "b1", "hosts": []string{"new.example.com"}},
			{"id": "b4", "hosts": []string{"b4.example.com"}},
			{"id": "b2", "hosts": []string{"ok.example.com", "not a host"}},
		}}, 422, `field "pages[2].hosts[1]"`},
		{"one stale ETag", map[string]any{"pages": []map[string]any{
			{"id": "b1", "hosts": []string{"new.example.com"}},
			{"id": "b4", "hosts": []string{"b4.example.com"}},
			{"id": "b3", "delete": true, "if_match": "1-000000000000"},
		}}, 412, `page "b3" has changed`},
		{"one delete too many", map[string]any{"pages": []map[string]any{
			{"id": "b1", "delete": true}, {"id": "b1", "hosts": []string{"x.example.com"}},
		}}, 422, `field "pages[1].id": page "b1" is also pages[0]`},
		{"over the limit", map[string]any{"pages": make([]map[string]any, pages.MaxBulk+1)}, 422, `501 entries, more than the limit of 500`},
		{"no list", map[string]any{}, 400, `field "pages": required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := put(tc.body)
			if a.status != tc.status || !strings.Contains(errorOf(a)+a.body, tc.want) {
				t.Errorf("%d %s; want %d containing %s", a.status, a.body, tc.status, tc.want)
			}
			if now := before(); !reflect.DeepEqual(now, was) {
				t.Errorf("a refused bulk changed the registry: %v, was %v", now, was)
			}
		})
	}

	// A sync: b1 changed, b3 deleted, b2 as it was.
	a = put(map[string]any{"pages": []map[string]any{
		{"id": "b1", "hosts": []string{"new.example.com"}, "if_match": res[0].ETag},
		{"id": "b2", "hosts": []string{"b2.example.com", "www.b2.test"}, "zone": otherZone},
		{"id": "b3", "delete": true},
	}})
	got := decodeInto[struct{ Results []pages.Result }](t, a).Results
	if a.status != http.StatusOK || got[0].Result != "updated" || got[1].Result != "unchanged" || got[2].Result != "deleted" {
		t.Errorf("sync: %d %s", a.status, a.body)
	}
	changes, err := audit.NewPageTrail(rdb, h.Cfg.Audit.Stream+":pages", 1000).List(ctx, "", 100)
	if err != nil || len(changes) != 5 || changes[0].Page != "b3" || changes[0].Result != "deleted" || changes[0].After != nil {
		t.Errorf("audit trail: %+v %v", changes, err)
	}
}

func TestPagesAPIListsWithACursorAndByHost(t *testing.T) {
	h := startPages(t, nil)
	rdb := redistest.Client(t)
	ctx := context.Background()
	var ws []map[string]any
	for i := range 30 {
		ws = append(ws, map[string]any{"id": fmt.Sprintf("l%02d", i), "hosts": []string{fmt.Sprintf("l%02d.example.com", i), "shared.example.com"}})
	}
	if a := pagesCall(t, h, http.MethodPut, "/v1/pages", map[string]any{"pages": ws}); a.status != http.StatusOK {
		t.Fatalf("bulk: %d %s", a.status, a.body)
	}
	// The core app's own entries keep working: one valid, one not.
	rdb.HSet(ctx, h.Prefix+"page:legacy", "hosts", "Legacy.Example.com")
	rdb.HSet(ctx, h.Prefix+"page:broken", "hosts", "ok.example.com,bad_host")

	type listing struct {
		Pages  []pages.Entry
		Cursor string
	}
	seen := map[string]pages.Entry{}
	cursor, calls := "", 0
	for {
		a := pagesCall(t, h, http.MethodGet, "/v1/pages?limit=5&cursor="+cursor, nil)
		l := decodeInto[listing](t, a)
		if a.status != http.StatusOK {
			t.Fatalf("list: %d %s", a.status, a.body)
		}
		calls++
		for _, e := range l.Pages {
			if _, dup := seen[e.ID]; dup && e.Source == "config" {
				t.Errorf("config page %s listed twice", e.ID)
			}
			seen[e.ID] = e
		}
		if l.Cursor == "" {
			break
		}
		cursor = l.Cursor
	}
	if len(seen) != 33 || calls < 2 {
		t.Errorf("listed %d pages in %d calls, want 30 + legacy + broken + p0", len(seen), calls)
	}
	if seen[harness.TestPage].Source != "config" || seen["legacy"].Source != "registry" || seen["legacy"].Hosts[0] != "legacy.example.com" {
		t.Errorf("sources: %+v %+v", seen[harness.TestPage], seen["legacy"])
	}
	if !strings.Contains(seen["broken"].Problem, `"hosts[1]"`) {
		t.Errorf("the broken entry's problem: %q", seen["broken"].Problem)
	}

	a := pagesCall(t, h, http.MethodGet, "/v1/pages?host=L07.example.com&limit=1000", nil)
	if l := decodeInto[listing](t, a); len(l.Pages) != 1 || l.Pages[0].ID != "l07" {
		t.Errorf("by host: %s", a.body)
	}
	a = pagesCall(t, h, http.MethodGet, "/v1/pages?host="+harness.TestHostB+"&limit=1000", nil)
	if l := decodeInto[listing](t, a); len(l.Pages) != 1 || l.Pages[0].ID != harness.TestPage {
		t.Errorf("a config page by host: %s", a.body)
	}
	if a := pagesCall(t, h, http.MethodGet, "/v1/pages?cursor=x", nil); a.status != http.StatusBadRequest {
		t.Errorf("made-up cursor: %d %s", a.status, a.body)
	}

	// The broken entry: shown with its problem, and its events still 422.
	g := pagesCall(t, h, http.MethodGet, "/v1/pages/broken", nil)
	if v := decodeInto[pages.View](t, g); g.status != http.StatusOK || v.Plan != nil || !strings.Contains(v.PlanError, "invalid host") || v.Problem == "" {
		t.Errorf("GET broken: %d %s", g.status, g.body)
	}
	if code, raw := h.SendEvent("msg_broken", []byte(`{"type":"incident.updated","page_id":"broken"}`)); code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "bad_host") {
		t.Errorf("event of the broken entry: %d %s", code, raw)
	}
	// A config page: its source and plan.
	g = pagesCall(t, h, http.MethodGet, "/v1/pages/"+harness.TestPage, nil)
	if v := decodeInto[pages.View](t, g); v.Source != "config" || v.ETag != "" || len(v.Plan.URLs) == 0 {
		t.Errorf("GET p0: %s", g.body)
	}
}

// TestPageSetThroughTheAPIIsPurgedByAnotherInstance: two instances on one
// Redis and one Cloudflare stand-in; a page's hostnames set on the first
// are purged by the next incident update sent to the second, whose cache
// had already answered "unknown page" before the write.
func TestPageSetThroughTheAPIIsPurgedByAnotherInstance(t *testing.T) {
	a := startPages(t, func(cfg *config.Config) { cfg.Registry.CacheTTL = 500 * time.Millisecond })
	cfg := harness.BaseConfig(a.Prefix, a.Cfg.Redis.URL, a.Cfg.Cloudflare.BaseURL)
	cfg.Audit.Stream = a.Cfg.Audit.Stream
	cfg.Registry.CacheTTL = 500 * time.Millisecond
	b := harness.StartWith(t, cfg, a.Stub, a.Prefix)
	b.WaitReady()

	if code, raw := b.SendEvent("msg_before", []byte(`{"type":"incident.updated","page_id":"cust1","incident_id":"i1"}`)); code != http.StatusUnprocessableEntity {
		t.Fatalf("before the write: %d %s", code, raw)
	}
	hosts := []string{"status.customer.test", "cust1.status.example.com", "status.customer-two.test"}
	if w := pagesCall(t, a, http.MethodPut, "/v1/pages/cust1", map[string]any{"hosts": hosts}); w.status != http.StatusCreated {
		t.Fatalf("PUT on the first instance: %d %s", w.status, w.body)
	}
	// Within registry.cache_ttl the second instance sees it.
	deadline := time.Now().Add(harness.DefaultTestWait)
	var code int
	var raw []byte
	for n := 0; time.Now().Before(deadline); n++ {
		code, raw = b.SendEvent(fmt.Sprintf("msg_after_%d", n), []byte(`{"type":"incident.updated","page_id":"cust1","incident_id":"i1"}`))
		if code == http.StatusOK {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("the second instance never purged the page: %d %s", code, raw)
	}
	purged := a.Stub.URLsPurged(harness.TestZone)
	for _, host := range hosts {
		for _, path := range []string{"/", "/incidents/i1", "/api/v2/summary.json"} {
			if !slices.Contains(purged, "https://"+host+path) {
				t.Errorf("https://%s%s not purged; purged %q", host, path, purged)
			}
		}
	}
}

// TestPagesAPIOnTheWritingInstanceAtOnce: the instance that wrote a page
// forgets its cached look-up, so its next event uses the new hosts even
// with a long registry.cache_ttl.
func TestPagesAPIOnTheWritingInstanceAtOnce(t *testing.T) {
	h := startPages(t, func(cfg *config.Config) { cfg.Registry.CacheTTL = time.Hour })
	ev := []byte(`{"type":"incident.updated","page_id":"fresh","incident_id":"i1"}`)
	if code, raw := h.SendEvent("msg_fresh_1", ev); code != http.StatusUnprocessableEntity {
		t.Fatalf("before the write: %d %s", code, raw)
	}
	if a := pagesCall(t, h, http.MethodPut, "/v1/pages/fresh", map[string]any{"hosts": []string{"fresh.example.com"}}); a.status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", a.status, a.body)
	}
	if code, raw := h.SendEvent("msg_fresh_2", ev); code != http.StatusOK || !slices.Contains(h.Stub.URLsPurged(harness.TestZone), "https://fresh.example.com/incidents/i1") {
		t.Errorf("after the write: %d %s", code, raw)
	}
}

func TestPagesAPIWithRedisDownOrTheRegistryOff(t *testing.T) {
	srv := redistest.StartServer(t)
	h := harness.StartOn(t, srv.URL(), redistest.Prefix(t), cfstub.Options{}, nil)
	if a := pagesCall(t, h, http.MethodPut, "/v1/pages/x1", map[string]any{"hosts": []string{"x1.example.com"}}); a.status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", a.status, a.body)
	}
	srv.Stop()
	for _, tc := range []struct{ method, path string }{{http.MethodPut, "/v1/pages/x1"}, {http.MethodGet, "/v1/pages/x1"}, {http.MethodGet, "/v1/pages"}} {
		var body any
		if tc.method == http.MethodPut {
			body = map[string]any{"hosts": []string{"x2.example.com"}}
		}
		a := pagesCall(t, h, tc.method, tc.path, body)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(errorOf(a), "retry") {
			t.Errorf("%s %s with Redis down: %d %s", tc.method, tc.path, a.status, a.body)
		}
	}

	off := startPages(t, func(cfg *config.Config) { cfg.Registry.Disabled = true })
	if a := pagesCall(t, off, http.MethodPut, "/v1/pages/x1", map[string]any{"hosts": []string{"x1.example.com"}}); a.status != http.StatusConflict || !strings.Contains(errorOf(a), "registry.disabled") {
		t.Errorf("PUT with the registry off: %d %s", a.status, a.body)
	}
	if a := pagesCall(t, off, http.MethodGet, "/v1/pages/"+harness.TestPage, nil); a.status != http.StatusOK {
		t.Errorf("GET of a config page with the registry off: %d %s", a.status, a.body)
	}
}

// TestPagesAPIPageOptions: the options of a config page (schemes, paths,
// tags, keys, soft_purge, cover…) written with a registry entry are
// planned for its events, on every instance; the GET shows them.
func TestPagesAPIPageOptions(t *testing.T) {
	h := startPages(t, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}, Tags: []string{"default:{page_id}"}}
	})
	body := map[string]any{
		"hosts":   []string{"status.opts.test"},
		"schemes": []string{"https", "http"},
		"paths":   map[string]any{"common": []string{"/", "/custom/{page_id}"}, "component": []string{}},
		"tags":    []string{"page:{page_id}", "incident:{incident_id}"},
		"keys":    []string{h.Prefix + "statuspage:{page_id}:summary"},
	}
	a := pagesCall(t, h, http.MethodPut, "/v1/pages/opts", body)
	if a.status != http.StatusCreated {
		t.Fatalf("PUT with options: %d %s", a.status, a.body)
	}
	// Idempotent with its options; a change of options alone is an update.
	if again := pagesCall(t, h, http.MethodPut, "/v1/pages/opts", body); decodeInto[pages.Result](t, again).Result != "unchanged" {
		t.Errorf("the same options again: %s", again.body)
	}
	g := pagesCall(t, h, http.MethodGet, "/v1/pages/opts?incident_id=i5", nil)
	v := decodeInto[pages.View](t, g)
	if !reflect.DeepEqual(v.Tags, []string{"page:{page_id}", "incident:{incident_id}"}) || len(v.Schemes) != 2 || v.Plan == nil ||
		!slices.Contains(v.Plan.URLs, "http://status.opts.test/custom/opts") || !slices.Contains(v.Plan.Tags, "incident:i5") || slices.Contains(v.Plan.Tags, "default:opts") {
		t.Fatalf("GET with options: %s", g.body)
	}
	code, raw := h.SendEvent("msg_opts", []byte(`{"type":"incident.updated","page_id":"opts","incident_id":"i5"}`))
	ans := harness.DecodeAnswer(t, raw)
	if code != http.StatusOK || !slices.Contains(ans.Plan.URLs, "https://status.opts.test/custom/opts") || !slices.Contains(ans.Plan.URLs, "http://status.opts.test/incidents/i5") ||
		!slices.Contains(ans.Plan.Tags, "page:opts") || len(ans.Plan.Keys) != 1 {
		t.Errorf("the event's plan: %d %s", code, raw)
	}
	if !slices.Contains(h.Stub.URLsPurged(harness.TestZone), "http://status.opts.test/custom/opts") {
		t.Error("the option's URL was not purged")
	}
	// Options left out: the default rule's again.
	u := pagesCall(t, h, http.MethodPut, "/v1/pages/opts", map[string]any{"hosts": []string{"status.opts.test"}}, "If-Match", a.etag)
	if decodeInto[pages.Result](t, u).Result != "updated" {
		t.Fatalf("PUT without options: %d %s", u.status, u.body)
	}
	g = pagesCall(t, h, http.MethodGet, "/v1/pages/opts", nil)
	v = decodeInto[pages.View](t, g)
	if v.Tags != nil || !slices.Contains(v.Plan.Tags, "default:opts") || v.Changes[0].Before == nil || len(v.Changes[0].Before.Options) == 0 {
		t.Errorf("after the options were dropped: %s", g.body)
	}
}
