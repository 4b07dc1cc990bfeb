package server

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/console"
	"github.com/edgepurge/edgepurge/internal/history"
)

// StatsSource is the process's recent history of purges (package
// history), served by GET /v1/stats.
type StatsSource interface {
	Snapshot() history.Snapshot
}

// handleConsole serves the on-call console's page and files, the same
// for everyone: the page holds no data; it asks the API with the token its
// user signs in with.
func (s *Server) handleConsole(ctx *fasthttp.RequestCtx) {
	a, ok := console.Lookup(string(ctx.Path()))
	if !ok {
		s.fail(ctx, fasthttp.StatusNotFound, "no such console file")
		return
	}
	h := &ctx.Response.Header
	for _, kv := range console.Headers {
		h.Set(kv[0], kv[1])
	}
	h.Set("ETag", a.ETag)
	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 && bytes.Contains(inm, []byte(a.ETag)) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(a.ContentType)
	ctx.SetBody(a.Body)
}

// handleStats serves GET /v1/stats: the last 15 minutes of this process's
// purges, for the console's charts.
func (s *Server) handleStats(ctx *fasthttp.RequestCtx) {
	if !s.authorized(ctx) {
		return
	}
	if s.cfg.Stats == nil {
		s.fail(ctx, fasthttp.StatusNotFound, "no recent history in this process")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.cfg.Stats.Snapshot())
}
