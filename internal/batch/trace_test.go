package batch

import (
	"context"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A call that carries the items of several traced callers is one span,
// a child of the first caller's span, linked to each caller's; callers'
// Tallies say when their items went out. Untraced callers add no link.
func TestCallSpanLinksEveryTracedCaller(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	release := make(chan struct{})
	var calls sync.WaitGroup
	calls.Add(1)
	first := true
	q := New(Options{MaxItems: 100, MaxInflight: 1, CallSpan: "cdn call", Flush: func(ctx context.Context, items []string) error {
		if first {
			first = false
			calls.Done()
			<-release // the others queue meanwhile
		}
		return nil
	}})
	ctx0, s0 := tp.Tracer("t").Start(context.Background(), "event 0")
	go q.Do(ctx0, []string{"a"})
	calls.Wait()

	const traced = 3
	spans := make([]trace.Span, traced)
	var wg sync.WaitGroup
	tallies := make([]Tally, traced)
	for i := range traced {
		ctx, s := tp.Tracer("t").Start(context.Background(), "event")
		spans[i] = s
		wg.Go(func() { tallies[i] = q.Do(ctx, []string{"x", string(rune('b' + i))}) })
	}
	wg.Go(func() { q.Do(context.Background(), []string{"x", "untraced"}) })
	for q.Pending() < traced+2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	s0.End()

	var call sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "cdn call" && len(s.Links()) > 1 {
			call = s
		}
	}
	if call == nil {
		t.Fatalf("no call span linking several callers: %v", rec.Ended())
	}
	linked := map[trace.SpanID]bool{}
	for _, l := range call.Links() {
		linked[l.SpanContext.SpanID()] = true
	}
	if len(linked) != traced {
		t.Errorf("%d links, want %d (one per traced caller, once each)", len(linked), traced)
	}
	for i, s := range spans {
		if !linked[s.SpanContext().SpanID()] {
			t.Errorf("caller %d not linked", i)
		}
		if tallies[i].SentAt.IsZero() {
			t.Errorf("caller %d: no SentAt", i)
		}
	}
	if p := call.Parent().SpanID(); !linked[p] {
		t.Errorf("the call's parent %s is none of its callers", p)
	}
}
