package server

import (
	"context"
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
	if s.duplicate(ev) {
		s.cfg.Metrics.Events.WithLabelValues(string(ev.Source), fanout.StatusDuplicate).Inc()
		s.log.Info("duplicate event, not purged again", "request_id", requestID(ctx), "id", ev.ID, "source", ev.Source, "page", ev.PageID)
		writeJSON(ctx, fasthttp.StatusOK, fanout.Answer{
			ID: ev.ID, Status: fanout.StatusDuplicate,
			Plan: plan.Plan{Page: ev.PageID, URLs: []string{}, Tags: []string{}, Keys: []string{}}, Results: []fanout.Result{},
		})
		return
	}
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
	s.noteBackendPanics(ctx, ev, a)
	if a.Status == fanout.StatusPurged {
		s.markPurged(ev)
	}

	status := fasthttp.StatusOK
	if !a.OK() {
		status = s.unfinished(ctx, ev, &a)
	}
	s.cfg.Metrics.Events.WithLabelValues(string(ev.Source), a.Status).Inc()
	s.audit(ev, a, status)
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
	case status == fasthttp.StatusAccepted:
		s.log.Warn("event journaled for re-drive", append(attrs, "journal_id", a.JournalID)...)
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

// duplicate reports whether ev was already purged. Manual purges are never
// duplicates. When the record cannot be read, the event is purged again:
// purging twice is harmless, not purging is not.
func (s *Server) duplicate(ev event.Event) bool {
	if s.cfg.Dedupe == nil || ev.Source == event.SourceManual || ev.ID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, dedupeTimeout)
	defer cancel()
	seen, err := s.cfg.Dedupe.Seen(ctx, ev.ID)
	if err != nil {
		s.log.Warn("duplicate check failed, purging anyway", "id", ev.ID, "err", err)
		return false
	}
	return seen
}

// markPurged records a successful purge, so the sender's retries are
// duplicates. Only success is recorded: a failed event must stay retryable.
func (s *Server) markPurged(ev event.Event) {
	if s.cfg.Dedupe == nil || ev.Source == event.SourceManual || ev.ID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, dedupeTimeout)
	defer cancel()
	if _, err := s.cfg.Dedupe.MarkPurged(ctx, ev.ID); err != nil {
		s.log.Warn("could not record the purged event id; a retry will purge again", "id", ev.ID, "err", err)
	}
}

// dedupeTimeout bounds the duplicate check, so a slow Redis delays a purge
// by at most this much.
const dedupeTimeout = 250 * time.Millisecond
