package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/tracing"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge"
)

// The hot path as `make bench`'s overhead scenario drives it, without I/O:
// a signed incident.updated hook for one page (the bench's two host
// templates and one key: 22 URLs), through the real handler, signature
// check, parser, planner, pipeline and chain, to CDN and Redis purgers
// that do nothing, logging as JSON to io.Discard.

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// nopCDN accepts every purge at once.
type nopCDN struct{}

func (nopCDN) Name() string { return "cloudflare" }
func (nopCDN) Purge(_ context.Context, req purge.Request) (purge.Result, error) {
	return purge.Result{Items: len(req.URLs) + len(req.Tags), Calls: 1}, nil
}

// nopKeys unlinks nothing.
type nopKeys struct{}

func (nopKeys) Name() string { return "redis" }
func (nopKeys) Invalidate(_ context.Context, keys, sets []string) (cache.Invalidation, error) {
	return cache.Invalidation{Keys: len(keys), Sets: len(sets)}, nil
}

func benchPlanner(tb testing.TB) *plan.Planner {
	tb.Helper()
	rules := plan.Rules{
		Zone:    "zone0",
		MaxURLs: 2000,
		Defaults: &config.PageRule{
			Hosts: []string{"{page_id}.status.example.com", "{page_id}.custom.example.com"},
			Keys:  []string{"bench:statuspage:{page_id}:summary"},
		},
	}
	p, err := plan.New(rules, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchServer(tb testing.TB) *Server { return benchServerTraced(tb, nil) }

// benchServerTraced is benchServer with tracing by tr (nil: off).
func benchServerTraced(tb testing.TB, tr *tracing.Tracer) *Server {
	tb.Helper()
	m := metrics.New("bench", "bench")
	// The handler the server logs through (cmd/edgepurge).
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	v, err := webhook.NewVerifier([]string{benchSecret}, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f := chain.New(chain.Config{CDN: []purge.Purger{nopCDN{}}, Keys: nopKeys{}, Timeout: 10 * time.Second, Observer: m})
	return New(Config{
		Pipeline: pipeline.New(pipeline.Config{Planner: benchPlanner(tb), Purger: f, Metrics: m, Log: log,
			Deadline: 10 * time.Second, KeysBackend: "redis", Tracer: tr}),
		Signatures: v, APIToken: "tok", Health: health.New(nil), Metrics: m, Log: log,
		ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second, MaxBodyBytes: 1 << 20,
	})
}

const benchBody = `{"type":"incident.updated","page_id":"bench-p0","incident_id":"bench-inc0","occurred_at":"2026-12-02T16:00:00Z"}`

func benchRequest(tb testing.TB, req *fasthttp.Request) {
	tb.Helper()
	now := time.Now()
	sig, err := webhook.Sign(benchSecret, "msg_bench1", now, []byte(benchBody))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/v1/hooks/events")
	req.Header.SetContentType("application/json")
	req.Header.Set("webhook-id", "msg_bench1")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	req.SetBodyString(benchBody)
}

// BenchmarkHookEvent is one signed hook event through the real handler.
func BenchmarkHookEvent(b *testing.B) {
	s := benchServer(b)
	h := s.Handler()
	var req fasthttp.Request
	benchRequest(b, &req)
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	for b.Loop() {
		ctx.Init(&req, nil, nil)
		h(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

// BenchmarkHookEventTraced is BenchmarkHookEvent with tracing on, one
// event in a hundred sampled and every one, the spans going to the SDK's
// batch processor and an exporter that drops them: the cost of tracing
// without the network's.
func BenchmarkHookEventTraced(b *testing.B) {
	for _, ratio := range []float64{0.01, 1} {
		b.Run(fmt.Sprintf("sampled=%g", ratio), func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
				sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))))
			defer tp.Shutdown(context.Background())
			h := benchServerTraced(b, tracing.NewWithProvider(tp)).Handler()
			var req fasthttp.Request
			benchRequest(b, &req)
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				ctx.Init(&req, nil, nil)
				h(&ctx)
				if ctx.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}

// BenchmarkParseHook is the parser alone.
func BenchmarkParseHook(b *testing.B) {
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.ParseHook("msg_bench1", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan is the planner alone.
func BenchmarkPlan(b *testing.B) {
	p := benchPlanner(b)
	ev, err := event.ParseHook("msg_bench1", []byte(benchBody))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		pl, err := p.Plan(ctx, ev)
		if err != nil || len(pl.URLs) != 22 {
			b.Fatalf("%d URLs, %v", len(pl.URLs), err)
		}
	}
}
