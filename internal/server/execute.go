package server

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// execute is the data path after parsing: plan, purge every backend,
// answer. The answer is 200 only when everything was purged.
func (s *Server) execute(ctx *fasthttp.RequestCtx, ev event.Event, dryRun bool) {
	p, err := s.cfg.Planner.Plan(s.baseCtx, ev)
	if err != nil {
		status, msg := planFailure(err)
		if status == fasthttp.StatusServiceUnavailable {
			ctx.Response.Header.Set("Retry-After", "5")
		}
		s.reject(ctx, ev.Source, status, msg)
		return
	}
	if p.Empty() {
		s.reject(ctx, ev.Source, fasthttp.StatusUnprocessableEntity, "nothing to purge for this event")
		return
	}
	a := s.cfg.Purger.Run(s.baseCtx, ev.ID, p, dryRun || s.cfg.DryRun)

	status := fasthttp.StatusOK
	if !a.OK() {
		status = fasthttp.StatusBadGateway
	}
	s.cfg.Metrics.Events.WithLabelValues(string(ev.Source), a.Status).Inc()
	if a.Status == fanout.StatusPurged && !ev.OccurredAt.IsZero() {
		s.cfg.Metrics.FreshnessLag.Observe(time.Since(ev.OccurredAt).Seconds())
	}
	attrs := []any{"request_id", requestID(ctx), "id", ev.ID, "source", ev.Source, "type", ev.Type,
		"page", ev.PageID, "status", a.Status, "http_status", status,
		"urls", len(p.URLs), "tags", len(p.Tags), "keys", len(p.Keys) + len(p.KeySets), "duration_ms", a.DurationMS}
	for _, r := range a.Results {
		if r.Error != "" {
			attrs = append(attrs, r.Backend+"_error", r.Error)
		}
	}
	switch {
	case a.Status == fanout.StatusDryRun:
		s.log.Info("event planned, not purged (dry run)", attrs...)
	case status == fasthttp.StatusOK:
		s.log.Info("event purged", attrs...)
	default:
		s.log.Error("event not purged", attrs...)
	}
	writeJSON(ctx, status, a)
}

// planFailure maps a planning error to its answer.
func planFailure(err error) (int, string) {
	var tooLarge *plan.TooLargeError
	var field *event.FieldError
	switch {
	case errors.Is(err, plan.ErrUnknownPage):
		return fasthttp.StatusUnprocessableEntity, err.Error()
	case errors.As(err, &tooLarge):
		return fasthttp.StatusUnprocessableEntity, err.Error()
	case errors.As(err, &field):
		return fasthttp.StatusBadRequest, err.Error()
	case errors.Is(err, plan.ErrRegistryUnavailable):
		return fasthttp.StatusServiceUnavailable, "page registry unavailable; retry"
	default:
		return fasthttp.StatusInternalServerError, "could not plan the purge"
	}
}

// reject answers a request that purges nothing, and counts it.
func (s *Server) reject(ctx *fasthttp.RequestCtx, src event.Source, status int, msg string) {
	s.cfg.Metrics.Events.WithLabelValues(string(src), "rejected").Inc()
	s.log.Info("request rejected", "request_id", requestID(ctx), "source", src, "http_status", status, "reason", msg)
	s.fail(ctx, status, msg)
}
