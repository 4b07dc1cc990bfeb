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
	o := s.cfg.Pipeline.Handle(s.baseCtx, r)
	if o.RetryAfter != "" {
		ctx.Response.Header.Set("Retry-After", o.RetryAfter)
	}
	if o.Refused() {
		s.fail(ctx, o.HTTPStatus, o.Refusal)
		return
	}
	writeJSON(ctx, o.HTTPStatus, &o.Answer)
}

// parse runs a parser and puts the event it returns in r.Event.
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
