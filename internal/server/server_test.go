package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// panickyPlanner panics for page "boom" and plans one URL otherwise.
type panickyPlanner struct{}

func (panickyPlanner) Plan(_ context.Context, ev event.Event) (plan.Plan, error) {
	if ev.PageID == "boom" {
		panic("planner exploded")
	}
	return plan.Plan{URLs: []string{"https://x.test/"}, Tags: []string{}, Keys: []string{}}, nil
}

type okPurger struct{}

func (p okPurger) RunOn(ctx context.Context, _ []string, id string, pl *plan.Plan, a *chain.Answer) {
	p.Run(ctx, id, pl, false, a)
}

func (okPurger) Run(_ context.Context, id string, p *plan.Plan, _ bool, a *chain.Answer) {
	*a = chain.Answer{ID: id, Status: chain.StatusPurged, Plan: *p}
}

func startServer(t *testing.T, logs io.Writer) (*Server, string) {
	t.Helper()
	m := metrics.New("test", "test")
	log := slog.New(slog.NewJSONHandler(logs, nil))
	s := New(Config{
		Pipeline: pipeline.New(pipeline.Config{Planner: panickyPlanner{}, Purger: okPurger{}, Metrics: m, Log: log}),
		APIToken: "tok", Health: health.New(nil), Metrics: m, Log: log,
		ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second, MaxBodyBytes: 4096,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, "http://" + ln.Addr().String()
}

// lockedWriter collects log lines written by server goroutines.
type lockedWriter = syncbuf.Buffer

func manualPurge(t *testing.T, base, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/purge", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPanicIsRecoveredAndServingGoesOn(t *testing.T) {
	logs := &lockedWriter{}
	s, base := startServer(t, logs)
	code, body := manualPurge(t, base, `{"page_id":"boom"}`)
	if code != http.StatusInternalServerError || !strings.Contains(body, "internal error") || strings.Contains(body, "exploded") {
		t.Errorf("panic answer: %d %s", code, body)
	}
	if got := testutil.ToFloat64(s.cfg.Metrics.Panics); got != 1 {
		t.Errorf("panics metric = %v", got)
	}
	if !strings.Contains(logs.String(), "planner exploded") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic not logged with a stack: %s", logs.String())
	}
	if code, body := manualPurge(t, base, `{"page_id":"fine"}`); code != http.StatusOK {
		t.Errorf("after the panic: %d %s", code, body)
	}
}

func TestRouting(t *testing.T) {
	_, base := startServer(t, io.Discard)
	for _, tc := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/healthz", 200, ""},
		{"HEAD", "/healthz", 200, ""},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"GET", "/v1/purge", 405, "POST"},
		{"DELETE", "/v1/hooks/events", 405, "POST"},
		{"GET", "/nope", 404, ""},
		{"GET", "/version", 200, ""},
		{"GET", "/metrics", 200, ""},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.want, tc.allow)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", tc.method, tc.path)
		}
	}
}

// Once draining, every answer closes its connection: keep-alive clients
// open their next one elsewhere before the listener closes, instead of
// sending on an idle connection that Shutdown closes under them.
func TestDrainClosesEveryConnection(t *testing.T) {
	s, base := startServer(t, io.Discard)
	get := func() *http.Response {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.Close {
		t.Fatal("before the drain an answer closed its connection")
	}
	s.Drain()
	if resp := get(); !resp.Close || resp.StatusCode != http.StatusOK {
		t.Errorf("while draining: status %d, Connection: close %v; want 200 and close", resp.StatusCode, resp.Close)
	}
	if code, _ := manualPurge(t, base, `{"page_id":"fine"}`); code != http.StatusOK {
		t.Errorf("while draining a purge got %d, want 200: a drain still serves", code)
	}
}
