package server

import (
	"time"

	"github.com/valyala/fasthttp"
)

// BackendsReport is GET /v1/backends: every place this instance purges
// and how its purges there went, for the console and the person on call.
type BackendsReport struct {
	// DryRun says this instance purges nothing.
	DryRun bool `json:"dry_run"`
	// WindowSeconds is readiness.window: how long a target may fail every
	// call before its state is failing.
	WindowSeconds float64         `json:"window_seconds"`
	Backends      []BackendStatus `json:"backends"`
}

// BackendStatus is one backend target: Redis, a Cloudflare zone, a Fastly
// service, a Varnish node or a CloudFront distribution.
type BackendStatus struct {
	Backend string `json:"backend"`
	// Target is the zone, service or node; "" for Redis.
	Target string `json:"target"`
	// Check is the target's readiness check.
	Check string `json:"check"`
	// State is unknown (no call yet), ok (the last call succeeded),
	// degraded (failing for less than the window) or failing (no success
	// for at least the window).
	State        string    `json:"state"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastFailure  time.Time `json:"last_failure,omitzero"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Error is the last failure's, while degraded or failing.
	Error string `json:"error,omitempty"`
	// Failures5m and Calls5m count the calls of the last 5 minutes,
	// events and probes alike.
	Failures5m int `json:"failures_5m"`
	Calls5m    int `json:"calls_5m"`
	// Breaker is the backend's circuit breaker (closed, half-open, open);
	// "" when it has none.
	Breaker string `json:"breaker"`
	// QueueDepth is how many items wait in this instance's queues for the
	// target.
	QueueDepth int `json:"queue_depth"`
	// Invalidations is how many invalidations this instance made at the
	// target and waits to see Completed (CloudFront).
	Invalidations int `json:"invalidations_in_progress,omitempty"`
	// Budget is what this instance's calls of the last minute spent of the
	// account's budgets; nil when edgepurge keeps none.
	Budget []Budget `json:"budget,omitempty"`
}

// Budget is the use of one rate budget over the last minute.
type Budget struct {
	// Bucket is urls or calls.
	Bucket string `json:"bucket"`
	// Used1m is what this instance spent in the last minute; Limit1m what
	// the account may spend in a minute (edgepurge's headroom applied),
	// shared by every instance.
	Used1m  int `json:"used_1m"`
	Limit1m int `json:"limit_1m"`
}

// handleBackends serves GET /v1/backends (bearer token).
func (s *Server) handleBackends(ctx *fasthttp.RequestCtx) {
	if !s.authorized(ctx) {
		return
	}
	if s.cfg.Backends == nil {
		s.fail(ctx, fasthttp.StatusNotFound, "no backends report in this server")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.cfg.Backends())
}
