package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestEnabledByAnEndpointOnly(t *testing.T) {
	for _, c := range []struct {
		file string
		env  map[string]string
		want bool
	}{
		{want: false},
		{file: "http://127.0.0.1:4318", want: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, want: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, want: true},
		{file: "http://127.0.0.1:4318", env: map[string]string{"OTEL_SDK_DISABLED": "true"}, want: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, want: false},
	} {
		cfg := Config{Endpoint: c.file, Getenv: func(k string) string { return c.env[k] }}
		if got := Enabled(cfg); got != c.want {
			t.Errorf("Enabled(file %q, env %v) = %v, want %v", c.file, c.env, got, c.want)
		}
		tr, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if (tr != nil) != c.want {
			t.Errorf("New(file %q, env %v): tracer %v, want on=%v", c.file, c.env, tr, c.want)
		}
		tr.Shutdown(context.Background())
	}
}

// Off, the helpers the data path calls allocate nothing.
func TestOffCostsNoAllocation(t *testing.T) {
	var tr *Tracer
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, root := tr.StartEvent(ctx, "POST /v1/purge", nil)
		c, span := Start(c, "plan")
		if span.IsRecording() || Recording(c) || TraceID(c) != "" {
			t.Fatal("recording with tracing off")
		}
		span.End()
		root.End()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per event with tracing off, want 0", allocs)
	}
}

// A child starts under a recording span only; the trace context survives
// a round trip through a journal entry's traceparent and links a new trace.
func TestChildrenAndLinks(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := &Tracer{provider: tp, tracer: tp.Tracer(Scope)}
	ctx, root := tr.tracer.Start(context.Background(), "event")
	cctx, child := Start(ctx, "plan")
	child.End()
	if trace.SpanContextFromContext(cctx).TraceID() != root.SpanContext().TraceID() {
		t.Error("the child is not in the root's trace")
	}
	tp2, ts := TraceParent(ctx)
	root.End()
	if tp2 == "" {
		t.Fatal("no traceparent of a sampled span")
	}
	_ = ts
	if _, s := Start(context.Background(), "orphan"); s.IsRecording() {
		t.Error("a span without a recording parent records")
	}
	_, re := tr.StartLinked(context.Background(), "redrive", tp2, "")
	re.End()
	spans := rec.Ended()
	last := spans[len(spans)-1]
	if last.Name() != "redrive" || last.SpanContext().TraceID() == root.SpanContext().TraceID() {
		t.Fatalf("redrive: %s in trace %s", last.Name(), last.SpanContext().TraceID())
	}
	if l := last.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != root.SpanContext().SpanID() || l[0].SpanContext.TraceID() != root.SpanContext().TraceID() {
		t.Errorf("redrive links %v, want the event's span", l)
	}
	// Background work under the child-only provider starts nothing.
	_, bg := tr.ChildProvider().Tracer("redis").Start(context.Background(), "xreadgroup")
	if bg.IsRecording() {
		t.Error("the child-only provider started a trace")
	}
}
