package server

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// handleManualPurge serves POST /v1/purge for the person on call.
func (s *Server) handleManualPurge(ctx *fasthttp.RequestCtx) {
	t := s.startEvent(ctx, "POST /v1/purge", "/v1/purge")
	defer t.end(ctx)
	span := t.child("authenticate")
	token, ok := bearerToken(ctx.Request.Header.Peek("Authorization"))
	ok = ok && tokenMatches(s.apiToken, s.cfg.APIToken != "", token)
	span.End()
	if !ok {
		s.reject(ctx, event.SourceManual, fasthttp.StatusUnauthorized, "token invalid")
		return
	}
	if !isJSON(ctx) {
		s.reject(ctx, event.SourceManual, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	span = t.child("parse")
	req, err := event.ParseManual(ctx.PostBody())
	span.End()
	if err != nil {
		s.reject(ctx, event.SourceManual, fasthttp.StatusBadRequest, err.Error())
		return
	}
	ev, err := req.Event(newID("man_"))
	if err != nil {
		s.reject(ctx, event.SourceManual, fasthttp.StatusBadRequest, err.Error())
		return
	}
	s.purge(ctx, t, &pipeline.Request{Event: ev}, req.DryRun)
}

// authorized reports whether the request bears the API token, answering
// 401 when it does not.
func (s *Server) authorized(ctx *fasthttp.RequestCtx) bool {
	token, ok := bearerToken(ctx.Request.Header.Peek("Authorization"))
	if !ok || !tokenMatches(s.apiToken, s.cfg.APIToken != "", token) {
		s.fail(ctx, fasthttp.StatusUnauthorized, "token invalid")
		return false
	}
	return true
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110).
func bearerToken(auth []byte) ([]byte, bool) {
	const scheme = "bearer "
	if len(auth) <= len(scheme) || !bytes.EqualFold(auth[:len(scheme)], []byte(scheme)) {
		return nil, false
	}
	return auth[len(scheme):], true
}
