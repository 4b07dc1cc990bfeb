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
	Ready bool `json:"ready"`
	// Failing names the checks that make the instance unready.
	Failing []string `json:"failing,omitempty"`
	// Degraded names the failing shared checks that do not (yet): every
	// instance shares them, so the instance keeps taking hooks and answers
	// them honestly (202 journaled, or 503).
	Degraded []string        `json:"degraded,omitempty"`
	Checks   []health.Status `json:"checks,omitempty"`
}

// handleReadyz is readiness: 503 naming the failing checks when the
// instance itself cannot serve (not configured, draining, or a shared
// dependency down for longer than readiness.shared_grace), 200 otherwise,
// naming the shared dependencies that are failing.
func (s *Server) handleReadyz(ctx *fasthttp.RequestCtx) {
	ready, checks := s.cfg.Health.Report()
	r := readiness{Ready: ready}
	// ?verbose lists every check with its last success; the default stays
	// small for probes that poll it every second.
	if ctx.QueryArgs().Has("verbose") {
		r.Checks = checks
	}
	for _, c := range checks {
		switch {
		case c.OK:
		case c.Gating:
			r.Failing = append(r.Failing, c.Name)
		default:
			r.Degraded = append(r.Degraded, c.Name)
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
