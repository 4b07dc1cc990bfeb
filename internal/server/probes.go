package server

import (
	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/health"
)

// handleHealthz is liveness: the process serves. It checks no dependency,
// so a stuck dependency cannot get the process killed in a loop.
func (s *Server) handleHealthz(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Ready   bool            `json:"ready"`
	Failing []string        `json:"failing,omitempty"`
	Checks  []health.Status `json:"checks,omitempty"`
}

// handleReadyz is readiness: 200 only when the process can really purge,
// 503 naming the failing checks otherwise.
func (s *Server) handleReadyz(ctx *fasthttp.RequestCtx) {
	ready, checks := s.cfg.Health.Report()
	r := readiness{Ready: ready}
	// ?verbose lists every check with its last success; the default stays
	// small for probes that poll it every second.
	if ctx.QueryArgs().Has("verbose") {
		r.Checks = checks
	}
	for _, c := range checks {
		if !c.OK {
			r.Failing = append(r.Failing, c.Name)
		}
	}
	status := fasthttp.StatusOK
	if !ready {
		status = fasthttp.StatusServiceUnavailable
	}
	writeJSON(ctx, status, r)
}

func (s *Server) handleVersion(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"version": s.cfg.Version})
}
