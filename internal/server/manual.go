package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
)

// handleManualPurge serves POST /v1/purge for the person on call.
func (s *Server) handleManualPurge(ctx *fasthttp.RequestCtx) {
	auth := ctx.Request.Header.Peek("Authorization")
	token, ok := bytes.CutPrefix(auth, []byte("Bearer "))
	if !ok || !tokenMatches(s.apiToken, s.cfg.APIToken != "", token) {
		s.reject(ctx, event.SourceManual, fasthttp.StatusUnauthorized, "token invalid")
		return
	}
	if !isJSON(ctx) {
		s.reject(ctx, event.SourceManual, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	var req event.ManualRequest
	dec := json.NewDecoder(bytes.NewReader(ctx.PostBody()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.reject(ctx, event.SourceManual, fasthttp.StatusBadRequest, fmt.Sprintf("malformed purge request: %v", err))
		return
	}
	if dec.More() {
		s.reject(ctx, event.SourceManual, fasthttp.StatusBadRequest, "malformed purge request: data after the JSON object")
		return
	}
	ev, err := req.Event(newID("man_"))
	if err != nil {
		s.reject(ctx, event.SourceManual, fasthttp.StatusBadRequest, err.Error())
		return
	}
	s.execute(ctx, ev, req.DryRun)
}
