package server

import (
	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// purge hands a parsed event (r.Event) to the pipeline and writes what
// became of it. The pipeline runs under the server's own context, never
// the fasthttp request context, which is recycled once the handler
// returns.
func (s *Server) purge(ctx *fasthttp.RequestCtx, r *pipeline.Request, dryRun bool) {
	r.DryRun, r.RequestID = dryRun, requestID(ctx)
	s.answer(ctx, s.cfg.Pipeline.Handle(s.baseCtx, r))
}

// answer writes o, what became of an event. (Out of line: the encoding's
// locals take no room in purge's frame, which the request's goroutine holds
// while the event is purged.)
//
//go:noinline
func (s *Server) answer(ctx *fasthttp.RequestCtx, o *pipeline.Outcome) {
	if o.RetryAfter != "" {
		ctx.Response.Header.Set("Retry-After", o.RetryAfter)
	}
	if o.Refused() {
		s.fail(ctx, o.HTTPStatus, o.Refusal)
		return
	}
	writeJSON(ctx, o.HTTPStatus, &o.Answer)
}

// parse runs a parser and puts the event it returns in r.Event. The
// handlers parse through it so that the parsed event is copied in this
// frame, gone before the purge, not in theirs, which stays on the
// request's goroutine's stack while the event is purged (a frame holds
// the result of every call it makes). It is kept out of line for that.
//
//go:noinline
func parse(r *pipeline.Request, parser func() (event.Event, error)) (err error) {
	r.Event, err = parser()
	return err
}

// reject answers a request refused before it reached the pipeline (bad
// credentials, not JSON, malformed), and counts it.
func (s *Server) reject(ctx *fasthttp.RequestCtx, src event.Source, status int, msg string) {
	s.cfg.Metrics.Event(string(src), "rejected").Inc()
	s.log.Info("request rejected", "request_id", requestID(ctx), "source", src, "http_status", status, "reason", msg)
	s.fail(ctx, status, msg)
}
