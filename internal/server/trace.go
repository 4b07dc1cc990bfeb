package server

import (
	"context"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// noSpan is the span of a request when tracing is off: it records nothing.
var noSpan = trace.SpanFromContext(context.Background())

// eventTrace is the trace of one request that carries an event: its span,
// the root of the event's life (or the continuation of the caller's
// trace), and the context the pipeline runs under.
type eventTrace struct {
	ctx  context.Context
	span trace.Span
}

// startEvent starts the span of a request to route (the path's template:
// never the path itself, which can carry the Statuspage token), named
// name ("POST " and the route, a constant: nothing is built per request),
// continuing the caller's W3C traceparent. Off, it costs nothing: the
// pipeline runs under the server's context.
func (s *Server) startEvent(rc *fasthttp.RequestCtx, name, route string) eventTrace {
	tr := s.cfg.Pipeline.Tracer()
	if tr == nil {
		return eventTrace{ctx: s.baseCtx, span: noSpan}
	}
	ctx, span := tr.StartEvent(s.baseCtx, name, headerCarrier{&rc.Request.Header})
	if span.IsRecording() {
		span.SetAttributes(attribute.String("http.request.method", "POST"), attribute.String("http.route", route),
			attribute.String("edgepurge.request_id", requestID(rc)))
	}
	return eventTrace{ctx: ctx, span: span}
}

// child starts a phase of the request (authenticate, parse) under its
// span; the caller ends it.
func (t eventTrace) child(name string) trace.Span {
	if !t.span.IsRecording() {
		return t.span
	}
	_, span := tracing.Start(t.ctx, name)
	return span
}

// event notes the event's identity and outcome on the request's span.
func (t eventTrace) event(r *pipeline.Request, o *pipeline.Outcome) {
	if !t.span.IsRecording() {
		return
	}
	ev := &r.Event
	t.span.SetAttributes(attribute.String("edgepurge.event_id", ev.ID), attribute.String("edgepurge.source", string(ev.Source)),
		attribute.String("edgepurge.page", ev.PageID), attribute.String("edgepurge.type", string(ev.Type)),
		attribute.String("edgepurge.status", o.Answer.Status), attribute.Bool("edgepurge.dry_run", r.DryRun))
}

// end ends the request's span with its answer's status code; a 5xx is an
// error (a 4xx is the caller's).
func (t eventTrace) end(rc *fasthttp.RequestCtx) {
	if !t.span.IsRecording() {
		return
	}
	status := rc.Response.StatusCode()
	t.span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		t.span.SetStatus(codes.Error, "")
	}
	t.span.End()
}

// headerCarrier reads W3C trace context from a request's headers.
type headerCarrier struct{ h *fasthttp.RequestHeader }

func (c headerCarrier) Get(key string) string { return string(c.h.Peek(key)) }

// Set is never called: the server only extracts.
func (c headerCarrier) Set(key, value string) { c.h.Set(key, value) }

func (c headerCarrier) Keys() []string {
	var keys []string
	for k := range c.h.All() {
		keys = append(keys, string(k))
	}
	return keys
}
