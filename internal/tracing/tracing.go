// Package tracing is edgepurge's OpenTelemetry tracing: the tracer
// provider and its OTLP/HTTP exporter, set up from the standard OTEL_*
// variables and the config file's tracing section, and the few helpers the
// data path starts its spans with.
//
// Tracing is off unless an OTLP endpoint is configured. Off, a *Tracer is
// nil and every helper returns at once, without allocating: the data path
// pays a context look-up per span, nothing more.
//
// Only the entry points start a trace (Tracer.StartEvent: the HTTP
// handlers; Tracer.StartLinked: the journal's re-drives). Everything below
// them starts child spans with Start, which finds the provider in the
// parent span: no package below the handlers holds a tracer, and nothing
// below them starts a trace of its own.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of edgepurge's own spans.
const Scope = "github.com/edgepurge/edgepurge"

// Config configures tracing.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (the config file's
	// tracing.endpoint), e.g. http://127.0.0.1:4318; /v1/traces is
	// appended. OTEL_EXPORTER_OTLP_ENDPOINT and
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT override it.
	Endpoint string
	// Version is service.version; Instance is service.instance.id (the
	// hostname when empty).
	Version, Instance string
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
}

// Enabled reports whether cfg turns tracing on: an endpoint in the file or
// the environment, and neither OTEL_SDK_DISABLED=true nor
// OTEL_TRACES_EXPORTER=none.
func Enabled(cfg Config) bool {
	getenv := cfg.getenv()
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return cfg.Endpoint != "" || envEndpoint(getenv) != ""
}

func (cfg Config) getenv() func(string) string {
	if cfg.Getenv != nil {
		return cfg.Getenv
	}
	return os.Getenv
}

// envEndpoint is the endpoint the environment names, if any.
func envEndpoint(getenv func(string) string) string {
	if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); v != "" {
		return v
	}
	return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

// Tracer starts edgepurge's traces and owns the provider that exports
// them. A nil *Tracer is tracing off: its methods do nothing.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
}

// New sets tracing up as cfg says, or returns nil (off) when cfg does not
// enable it. The SDK's OTLP exporter sends batches in the background over
// OTLP/HTTP (see httpClient); nothing is dialled here. Sampling is the
// SDK's reading of OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// (default parentbased_always_on).
func New(ctx context.Context, cfg Config) (*Tracer, error) {
	if !Enabled(cfg) {
		return nil, nil
	}
	client, err := newHTTPClient(cfg.Endpoint, cfg.getenv())
	if err != nil {
		return nil, err
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
	)
	return &Tracer{
		provider: tp,
		tracer:   tp.Tracer(Scope),
		// W3C trace context only: baggage is not read (nothing of the
		// caller's is recorded).
		prop: propagation.TraceContext{},
	}, nil
}

// NewWithProvider is a Tracer over a provider built elsewhere (a test's
// or a benchmark's, with its own exporter and sampler); the caller shuts
// the provider down.
func NewWithProvider(tp *sdktrace.TracerProvider) *Tracer {
	return &Tracer{provider: tp, tracer: tp.Tracer(Scope), prop: propagation.TraceContext{}}
}

// newResource is service.name (edgepurge unless OTEL_SERVICE_NAME says
// otherwise), service.version, service.instance.id and what
// OTEL_RESOURCE_ATTRIBUTES adds. The process's command line is left out:
// a CLI flag may carry a token.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	instance := cfg.Instance
	if instance == "" {
		host, _ := os.Hostname()
		instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(
			attribute.String("service.name", "edgepurge"),
			attribute.String("service.version", cfg.Version),
			attribute.String("service.instance.id", instance),
		),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// Provider is the tracer provider, for instrumentation that takes one
// (go-redis'); a no-op one when tracing is off.
func (t *Tracer) Provider() trace.TracerProvider {
	if t == nil {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// ChildProvider is Provider for instrumentation of calls that are made on
// an event's behalf and also on nobody's (go-redis': the journal's polls,
// the probes, the rate budget): its tracers start a span only under a
// recording one, so that background work starts no trace of its own.
func (t *Tracer) ChildProvider() trace.TracerProvider {
	return childProvider{tp: t.Provider()}
}

type childProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (c childProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childTracer{tr: c.tp.Tracer(name, opts...)}
}

type childTracer struct {
	embedded.Tracer
	tr trace.Tracer
}

func (c childTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if parent := trace.SpanFromContext(ctx); !parent.IsRecording() {
		return ctx, parent
	}
	return c.tr.Start(ctx, name, opts...)
}

// Shutdown exports what is buffered and stops the exporter, within ctx.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}

// StartEvent starts the span of one request, continuing the caller's trace
// when carrier (its headers) holds a W3C traceparent (and tracestate).
// Off, it returns ctx and a non-recording span.
func (t *Tracer) StartEvent(ctx context.Context, name string, carrier propagation.TextMapCarrier, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	ctx, span := t.tracer.Start(t.prop.Extract(ctx, carrier), name, append(opts, trace.WithSpanKind(trace.SpanKindServer))...)
	if span.IsRecording() {
		ctx = context.WithValue(ctx, tracerKey{}, t.tracer)
	}
	return ctx, span
}

// StartLinked starts a new trace linked to the span a traceparent names
// (see TraceParent): a re-drive of a journaled event, linked to the
// event's original trace. Off, it returns ctx and a non-recording span.
func (t *Tracer) StartLinked(ctx context.Context, name, traceparent, tracestate string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	opts = append(opts, trace.WithNewRoot())
	if sc := ParseTraceParent(traceparent, tracestate); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc,
			Attributes: []attribute.KeyValue{attribute.String("edgepurge.link", "original event")}}))
	}
	ctx, span := t.tracer.Start(ctx, name, opts...)
	if span.IsRecording() {
		ctx = context.WithValue(ctx, tracerKey{}, t.tracer)
	}
	return ctx, span
}

// Start starts a child span of ctx's span when that one is recording;
// otherwise it returns ctx and ctx's (non-recording) span, allocating
// nothing. The span is ended by the caller, as always.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	// The entry point's tracer, carried by the context: the provider's
	// Tracer method takes a lock the event's every span would contend on.
	tr, ok := ctx.Value(tracerKey{}).(trace.Tracer)
	if !ok {
		tr = parent.TracerProvider().Tracer(Scope)
	}
	return tr.Start(ctx, name, opts...)
}

// tracerKey is the context key of the entry point's tracer.
type tracerKey struct{}

// Recording reports whether ctx's span records: attributes are worth
// building.
func Recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// TraceID is the trace id of ctx's span when it is sampled (an exemplar's
// trace_id), or "".
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return ""
	}
	return sc.TraceID().String()
}

// TraceParent is the W3C traceparent and tracestate of ctx's span when it
// is sampled, for a journal entry to keep; "" otherwise.
func TraceParent(ctx context.Context) (traceparent, tracestate string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return "", ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// ParseTraceParent is the span context a W3C traceparent and tracestate
// name; invalid when they name none.
func ParseTraceParent(traceparent, tracestate string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	c := propagation.MapCarrier{"traceparent": traceparent}
	if tracestate != "" {
		c["tracestate"] = tracestate
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), c))
}

// EndAt ends span at t (a span whose end is known only later, as the
// queue wait's).
func EndAt(span trace.Span, t time.Time) { span.End(trace.WithTimestamp(t)) }
