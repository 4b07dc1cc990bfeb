package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
)

// panickyCDN panics on every purge.
type panickyCDN struct{}

func (panickyCDN) Name() string { return "cdn" }
func (panickyCDN) Purge(context.Context, purge.Request) (purge.Result, error) {
	panic("cdn exploded")
}

// panickyKeys panics on every invalidation, in the chain's own goroutine: not
// recovered, it would take the process down.
type panickyKeys struct{}

func (panickyKeys) Name() string { return "redis" }
func (panickyKeys) Invalidate(context.Context, []string, []string) (cache.Invalidation, error) {
	panic("redis exploded")
}

// itemsPlanner plans one URL and the event's own keys.
type itemsPlanner struct{}

func (itemsPlanner) Plan(_ context.Context, ev event.Event) (plan.Plan, error) {
	return plan.Plan{URLs: []string{"https://x.test/"}, Tags: []string{}, Keys: ev.Keys}, nil
}

func TestBackendPanicIsRecoveredAsAFailedResult(t *testing.T) {
	logs := &lockedWriter{}
	var mu sync.Mutex
	var stacks []string
	fo := chain.New(chain.Config{
		CDN: []purge.Purger{panickyCDN{}}, Keys: panickyKeys{}, Timeout: 5 * time.Second,
		OnPanic: func(backend string, value any, stack []byte) {
			mu.Lock()
			defer mu.Unlock()
			stacks = append(stacks, backend+": "+value.(string)+"\n"+string(stack))
		},
	})
	m := metrics.New("test", "test")
	log := slog.New(slog.NewJSONHandler(logs, nil))
	s := New(Config{
		Pipeline: pipeline.New(pipeline.Config{Planner: itemsPlanner{}, Purger: fo, Metrics: m, Log: log, KeysBackend: "redis"}),
		APIToken: "tok", Health: health.New(nil), Metrics: m, Log: log,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Second, MaxBodyBytes: 4096,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	base := "http://" + ln.Addr().String()

	code, body := manualPurge(t, base, `{"page_id":"fine","keys":["k1"]}`)
	if code != http.StatusBadGateway {
		t.Fatalf("status %d: %s", code, body)
	}
	var a chain.Answer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.Status != chain.StatusFailed || len(a.Results) != 2 {
		t.Fatalf("answer %+v", a)
	}
	for i, want := range []string{"cdn", "redis"} {
		r := a.Results[i]
		if r.Backend != want || r.Status != chain.BackendFailed || r.Error != "internal error in backend" {
			t.Errorf("results[%d] = %+v", i, r)
		}
	}
	if strings.Contains(body, "exploded") || strings.Contains(body, "goroutine") {
		t.Errorf("the panic leaked into the answer: %s", body)
	}
	if got := testutil.ToFloat64(m.Panics); got != 2 {
		t.Errorf("panics metric = %v, want 2", got)
	}
	if n := strings.Count(logs.String(), `"msg":"panic in backend"`); n != 2 {
		t.Errorf("%d backend panics logged, want 2: %s", n, logs.String())
	}
	mu.Lock()
	if len(stacks) != 2 || !strings.Contains(strings.Join(stacks, ""), "panickyKeys.Invalidate") {
		t.Errorf("OnPanic stacks: %q", stacks)
	}
	mu.Unlock()
	// The process is alive and serving.
	if code, _ := manualPurge(t, base, `{"page_id":"fine","keys":["k1"]}`); code != http.StatusBadGateway {
		t.Errorf("after the panics: %d", code)
	}
}

func TestPanicLogRedactsTheStatuspageToken(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/hooks/statuspage/s3cret-token": "/v1/hooks/statuspage/[redacted]",
		"/v1/hooks/statuspage/":             "/v1/hooks/statuspage/",
		"/v1/purge":                         "/v1/purge",
	} {
		if got := loggablePath([]byte(path)); got != want {
			t.Errorf("loggablePath(%q) = %q, want %q", path, got, want)
		}
	}
}
