package server

import (
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/statuspage"
	"github.com/valyala/fasthttp"
)

// handleEvent serves POST /v1/hooks/events: the core app's event, signed
// the Standard Webhooks way. Every check that needs no I/O comes first, so
// a bad request costs no Redis or CDN work.
func (s *Server) handleEvent(ctx *fasthttp.RequestCtx) {
	t := s.startEvent(ctx, "POST /v1/hooks/events", "/v1/hooks/events")
	defer t.end(ctx)
	if !isJSON(ctx) {
		s.reject(ctx, event.SourceHook, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	id := string(ctx.Request.Header.Peek("webhook-id"))
	body := ctx.PostBody()
	span := t.child("authenticate")
	ok := s.signed(ctx, id, body)
	span.End()
	if !ok {
		return
	}
	var r pipeline.Request
	var err error
	span = t.child("parse")
	r.Event, err = event.ParseHook(id, body)
	span.End()
	if err != nil {
		s.reject(ctx, event.SourceHook, fasthttp.StatusBadRequest, err.Error())
		return
	}
	s.purge(ctx, t, &r, false)
}

// signed reports whether the event id's body bears a valid signature,
// answering 401 when it does not.
func (s *Server) signed(ctx *fasthttp.RequestCtx, id string, body []byte) bool {
	if s.cfg.Signatures == nil {
		s.reject(ctx, event.SourceHook, fasthttp.StatusUnauthorized, "signature invalid")
		return false
	}
	h := &ctx.Request.Header
	if err := s.cfg.Signatures.Verify(id, string(h.Peek("webhook-timestamp")), string(h.Peek("webhook-signature")), body, time.Now()); err != nil {
		s.log.Info("hook signature rejected", "request_id", requestID(ctx), "reason", err.Error())
		s.reject(ctx, event.SourceHook, fasthttp.StatusUnauthorized, "signature invalid")
		return false
	}
	return true
}

// statuspagePrefix starts the Statuspage endpoint's path; the rest is the
// token. statuspageRoute is the path's template, for traces.
const (
	statuspagePrefix = "/v1/hooks/statuspage/"
	statuspageRoute  = statuspagePrefix + "{token}"
)

// handleStatuspage serves POST /v1/hooks/statuspage/{token}: Statuspage's
// unsigned notifications, authenticated by the token in the path.
func (s *Server) handleStatuspage(ctx *fasthttp.RequestCtx) {
	t := s.startEvent(ctx, "POST "+statuspageRoute, statuspageRoute)
	defer t.end(ctx)
	span := t.child("authenticate")
	token := strings.TrimPrefix(string(ctx.Path()), statuspagePrefix)
	ok := tokenMatches(s.spToken, s.cfg.StatuspageToken != "", []byte(token))
	span.End()
	if !ok {
		s.reject(ctx, event.SourceStatuspage, fasthttp.StatusUnauthorized, "token invalid")
		return
	}
	if !isJSON(ctx) {
		s.reject(ctx, event.SourceStatuspage, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	body := ctx.PostBody()
	var r pipeline.Request
	var err error
	span = t.child("parse")
	r.Event, err = statuspage.Parse(body)
	span.End()
	if err != nil {
		s.reject(ctx, event.SourceStatuspage, fasthttp.StatusBadRequest, err.Error())
		return
	}
	s.purge(ctx, t, &r, false)
}

// purge hands a parsed event (r.Event) to the pipeline and writes what
// became of it. The pipeline runs under the server's own context (with
// the request's trace, t), never the fasthttp request context, which is
// recycled once the handler returns.
func (s *Server) purge(ctx *fasthttp.RequestCtx, t eventTrace, r *pipeline.Request, dryRun bool) {
	r.DryRun, r.RequestID = dryRun, requestID(ctx)
	o := s.cfg.Pipeline.Handle(t.ctx, r)
	t.event(r, o)
	if o.RetryAfter != "" {
		ctx.Response.Header.Set("Retry-After", o.RetryAfter)
	}
	if o.Refused() {
		s.fail(ctx, o.HTTPStatus, o.Refusal)
		return
	}
	writeJSON(ctx, o.HTTPStatus, &o.Answer)
}

// reject answers a request refused before it reached the pipeline (bad
// credentials, not JSON, malformed), and counts it.
func (s *Server) reject(ctx *fasthttp.RequestCtx, src event.Source, status int, msg string) {
	s.cfg.Metrics.Event(string(src), "rejected").Inc()
	s.log.Info("request rejected", "request_id", requestID(ctx), "source", src, "http_status", status, "reason", msg)
	s.fail(ctx, status, msg)
}
