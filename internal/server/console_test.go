package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/history"
	"github.com/edgepurge/edgepurge/internal/journal"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// fakeJournal holds one pending entry and one dead letter.
type fakeJournal struct{ dryRun bool }

const pendingID, deadID = "1764184525000-0", "1764184526000-0"

func (fakeJournal) Pending(context.Context, string, int) (journal.Page[journal.Pending], error) {
	e := journal.Entry{ID: pendingID, EventID: "ev1", Page: "p0", FirstFailure: time.Now().Add(-time.Minute), Attempts: 2}
	return journal.Page[journal.Pending]{Items: []journal.Pending{{Entry: e}}, Total: 1}, nil
}

func (fakeJournal) Dead(context.Context, string, int) (journal.Page[journal.Dead], error) {
	return journal.Page[journal.Dead]{Total: 0}, nil
}

func (f fakeJournal) Replay(_ context.Context, dead bool, id string) ([]journal.Replayed, error) {
	if f.dryRun {
		return nil, ErrDryRun
	}
	switch {
	case dead && id == "":
		return []journal.Replayed{{ID: deadID, Status: chain.StatusPurged}}, nil
	case !dead && id == pendingID:
		return []journal.Replayed{{ID: pendingID, Status: chain.StatusPurged}}, nil
	}
	return nil, nil
}

func startConsoleServer(t *testing.T, j JournalAdmin) string {
	t.Helper()
	m := metrics.New("test", "test")
	log := slog.New(slog.DiscardHandler)
	h := history.New(0, 0)
	h.Observe("purged", time.Second)
	s := New(Config{
		Pipeline: pipeline.New(pipeline.Config{Planner: panickyPlanner{}, Purger: okPurger{}, Metrics: m, Log: log}),
		APIToken: "tok", Health: health.New(nil), Metrics: m, Log: log, Journal: j, Stats: h,
		ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second, MaxBodyBytes: 4096,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func call(t *testing.T, method, url, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestJournalAndStatsEndpoints(t *testing.T) {
	base := startConsoleServer(t, fakeJournal{})
	for _, tc := range []struct {
		method, path, token string
		want                int
		body                string
	}{
		{"GET", "/v1/journal", "", 401, "token invalid"},
		{"GET", "/v1/journal", "wrong", 401, "token invalid"},
		{"GET", "/v1/journal/dead", "", 401, "token invalid"},
		{"POST", "/v1/journal/" + pendingID + "/replay", "", 401, "token invalid"},
		{"POST", "/v1/journal/dead/replay", "", 401, "token invalid"},
		{"POST", "/v1/journal/dead/" + deadID + "/replay", "", 401, "token invalid"},
		{"GET", "/v1/stats", "", 401, "token invalid"},
		{"GET", "/v1/journal", "tok", 200, `"oldest_age_seconds":`},
		{"GET", "/v1/journal/dead", "tok", 200, `"entries":[]`},
		{"GET", "/v1/journal?limit=0", "tok", 400, "limit"},
		{"GET", "/v1/journal?after=x", "tok", 400, "after"},
		{"POST", "/v1/journal/" + pendingID + "/replay", "tok", 200, `"status":"purged"`},
		{"POST", "/v1/journal/1-1/replay", "tok", 404, "no journal entry 1-1"},
		{"POST", "/v1/journal/dead/1-1/replay", "tok", 404, "no dead-letter entry 1-1"},
		{"POST", "/v1/journal/not-an-id/replay", "tok", 404, "no journal entry"},
		{"POST", "/v1/journal/dead/replay", "tok", 200, `"purged":1`},
		{"GET", "/v1/journal/dead/replay", "tok", 405, "not allowed"},
		{"GET", "/v1/journal/other", "tok", 404, "no such endpoint"},
		{"GET", "/v1/stats", "tok", 200, `"window_seconds":900`},
	} {
		resp, body := call(t, tc.method, base+tc.path, tc.token)
		if resp.StatusCode != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s (token %q) = %d %s, want %d with %q", tc.method, tc.path, tc.token, resp.StatusCode, body, tc.want, tc.body)
		}
	}
}

func TestJournalEndpointsWithoutJournal(t *testing.T) {
	base := startConsoleServer(t, nil)
	if resp, body := call(t, "GET", base+"/v1/journal", "tok"); resp.StatusCode != 404 || !strings.Contains(body, "journal.disabled") {
		t.Errorf("GET /v1/journal without a journal = %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", base+"/v1/journal", ""); resp.StatusCode != 401 {
		t.Errorf("GET /v1/journal without a token nor a journal = %d, want 401", resp.StatusCode)
	}
}

func TestReplayOnADryRunIsAConflict(t *testing.T) {
	base := startConsoleServer(t, fakeJournal{dryRun: true})
	resp, body := call(t, "POST", base+"/v1/journal/dead/replay", "tok")
	if resp.StatusCode != 409 || !strings.Contains(body, "dry run") {
		t.Errorf("replay on a dry run = %d %s", resp.StatusCode, body)
	}
}

func TestConsoleIsServedWithItsHeaders(t *testing.T) {
	base := startConsoleServer(t, nil)
	for _, tc := range []struct{ path, ctype string }{
		{"/console", "text/html"},
		{"/console/", "text/html"},
		{"/console/console.js", "text/javascript"},
		{"/console/console.css", "text/css"},
		{"/console/favicon.svg", "image/svg+xml"},
	} {
		resp, body := call(t, "GET", base+tc.path, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || body == "" {
			t.Errorf("GET %s = %d %s, want 200 %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.ctype)
			continue
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: headers %v", tc.path, resp.Header)
		}
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", tc.path, again.StatusCode)
		}
	}
	if resp, _ := call(t, "GET", base+"/console/nope.js", ""); resp.StatusCode != 404 {
		t.Errorf("GET /console/nope.js = %d, want 404", resp.StatusCode)
	}
	if resp, _ := call(t, "POST", base+"/console", ""); resp.StatusCode != 405 {
		t.Errorf("POST /console = %d, want 405", resp.StatusCode)
	}
}

// TestConsoleRendersNoHTMLFromData: the console's script never hands data
// to the HTML parser.
func TestConsoleRendersNoHTMLFromData(t *testing.T) {
	base := startConsoleServer(t, nil)
	_, js := call(t, "GET", base+"/console/console.js", "")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "console.log", "console.error"} {
		if strings.Contains(js, bad) {
			t.Errorf("console.js uses %s", bad)
		}
	}
	_, html := call(t, "GET", base+"/console", "")
	if strings.Count(html, "<script") != 1 || !strings.Contains(html, `<script src="/console/console.js" defer></script>`) || strings.Contains(html, "style=") {
		t.Errorf("the page must have one external script and no inline script or style")
	}
}

func TestStatsAnswer(t *testing.T) {
	base := startConsoleServer(t, nil)
	_, body := call(t, "GET", base+"/v1/stats", "tok")
	var s history.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Slots) != 90 || s.Totals.Purges != 1 || s.Totals.LagMaxSeconds != 1 {
		t.Errorf("stats: %d slots, totals %+v", len(s.Slots), s.Totals)
	}
}
