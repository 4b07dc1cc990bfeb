package pipeline

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// Request is one authenticated, parsed event to purge.
type Request struct {
	Event event.Event
	// DryRun plans and answers but purges nothing.
	DryRun bool
	// RequestID ties the log lines to the HTTP request; may be empty.
	RequestID string
}

// Outcome is what became of a Request: the HTTP status the caller is
// answered with and, unless the event was refused before anything was
// purged, the answer.
type Outcome struct {
	// HTTPStatus is the answer's status code (PRODUCT.md, "Status codes").
	HTTPStatus int
	// RetryAfter, when set, is the Retry-After header's value in seconds.
	RetryAfter string
	// Refusal says why nothing was purged (a 4xx or 5xx before any
	// purge); Answer is then empty.
	Refusal string
	Answer  chain.Answer
}

// Refused reports whether the event was refused before anything was
// purged.
func (o Outcome) Refused() bool { return o.Refusal != "" }

// Handle takes an event through its whole life: duplicate check, plan,
// purge, settle, audit, metrics, log.
//
// The event's deadline is computed once; each step that waits on a backend
// takes a context of its own from ctx, bounded by it. When ctx ends (the
// server's cut-off at shutdown), the purge in flight stops short, and the
// event is still settled (journaled) and answered, within its deadline.
//
// The outcome is made here, once: the plan is made in place in its answer
// and the purge answers into it, so that the steps share one answer
// rather than hand copies of it down and back.
func (p *Pipeline) Handle(ctx context.Context, r *Request) *Outcome {
	deadline, _ := ctx.Deadline()
	if p.cfg.Deadline > 0 {
		deadline = earliest(deadline, time.Now().Add(p.cfg.Deadline))
	}
	if p.duplicate(ctx, deadline, &r.Event) {
		return p.answerDuplicate(r)
	}
	o := new(Outcome)
	if !p.plan(ctx, r, o) {
		return o
	}
	a := &o.Answer
	pctx, cancel := p.purgeContext(ctx, deadline)
	p.cfg.Purger.Run(pctx, r.Event.ID, &a.Plan, r.DryRun || p.cfg.DryRun, a)
	cancel()
	sctx, span := tracing.Start(ctx, "settle")
	p.settle(sctx, deadline, &r.Event, o)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("edgepurge.status", a.Status), attribute.Int("http.response.status_code", o.HTTPStatus))
	}
	span.End()
	p.notePanics(r.RequestID, r.Event.ID, a)
	p.record(ctx, r, o)
	return o
}

// plan makes r's plan in o.Answer.Plan. When there is none (a planning
// error, nothing to purge), it refuses the event in o instead and says
// false.
func (p *Pipeline) plan(ctx context.Context, r *Request, o *Outcome) bool {
	ctx, span := tracing.Start(ctx, "plan")
	defer span.End()
	var err error
	o.Answer.Plan, err = p.cfg.Planner.Plan(ctx, r.Event)
	if span.IsRecording() {
		pl := &o.Answer.Plan
		span.SetAttributes(attribute.String("edgepurge.page", pl.Page), attribute.Int("edgepurge.urls", len(pl.URLs)),
			attribute.Int("edgepurge.tags", len(pl.Tags)), attribute.Int("edgepurge.keys", len(pl.Keys)+len(pl.KeySets)))
		if err != nil {
			span.SetStatus(codes.Error, "no plan")
		}
	}
	switch {
	case err != nil:
		o.HTTPStatus, o.RetryAfter, o.Refusal = planFailure(err)
	case o.Answer.Plan.Empty():
		o.HTTPStatus, o.Refusal = http.StatusUnprocessableEntity, "nothing to purge for this event"
	default:
		return true
	}
	p.refuse(r, o, err)
	return false
}

// earliest is the sooner of two deadlines, the zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// withDeadline is context.WithDeadline, or ctx itself (and a no-op cancel)
// for the zero deadline: no bound.
func withDeadline(ctx context.Context, d time.Time) (context.Context, context.CancelFunc) {
	if d.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, d)
}

// settleReserve is the part of the request's deadline kept for settling
// after the purge (the journal write, the duplicate record): a purge that
// runs out of time is still journaled and answered in time.
func settleReserve(d time.Duration) time.Duration {
	return min(d/10, 2*time.Second)
}

// purgeContext is the purge's context: it ends with ctx, at the request's
// deadline less the settle reserve (so that a purge that runs out of time
// is still journaled and answered in time), or at the purge timeout,
// whichever is sooner.
func (p *Pipeline) purgeContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	end := deadline
	if !end.IsZero() && p.cfg.Deadline > 0 {
		end = end.Add(-settleReserve(p.cfg.Deadline))
	}
	if p.cfg.PurgeTimeout > 0 {
		end = earliest(end, time.Now().Add(p.cfg.PurgeTimeout))
	}
	return withDeadline(ctx, end)
}

func (p *Pipeline) answerDuplicate(r *Request) *Outcome {
	ev := &r.Event
	p.cfg.Metrics.Event(string(ev.Source), chain.StatusDuplicate).Inc()
	p.log.Info("duplicate event, not purged again", "request_id", r.RequestID, "id", ev.ID, "source", ev.Source, "page", ev.PageID)
	return &Outcome{HTTPStatus: http.StatusOK, Answer: chain.Answer{
		ID: ev.ID, Status: chain.StatusDuplicate,
		Plan: plan.Plan{Page: ev.PageID, URLs: []string{}, Tags: []string{}, Keys: []string{}}, Results: []chain.BackendResult{},
	}}
}

// planFailure maps a planning error to its answer's status, Retry-After
// and refusal.
func planFailure(err error) (status int, retryAfter, refusal string) {
	var tooLarge *plan.TooLargeError
	var field *event.FieldError
	switch {
	case errors.Is(err, plan.ErrUnknownPage), errors.Is(err, plan.ErrBadRegistryEntry), errors.Is(err, plan.ErrUnsupported),
		errors.As(err, &tooLarge):
		return http.StatusUnprocessableEntity, "", err.Error()
	case errors.As(err, &field):
		return http.StatusBadRequest, "", err.Error()
	case errors.Is(err, plan.ErrRegistryUnavailable):
		// The registry lives in Redis: the operator's fix is there.
		return http.StatusServiceUnavailable, "5", "page registry unavailable (Redis is failing); retry"
	default:
		return http.StatusInternalServerError, "", "could not plan the purge"
	}
}

// refuse counts and logs an event refused before any purge, with the
// planning error (err, may be nil) that the answer leaves out.
func (p *Pipeline) refuse(r *Request, o *Outcome, err error) {
	p.cfg.Metrics.Event(string(r.Event.Source), "rejected").Inc()
	args := []any{"request_id", r.RequestID, "source", r.Event.Source, "http_status", o.HTTPStatus, "reason", o.Refusal}
	if err != nil {
		args = append(args, "err", err)
	}
	p.log.Info("request rejected", args...)
}

// dedupeTimeout bounds the duplicate check and its record, so a slow Redis
// delays a purge by at most this much.
const dedupeTimeout = 250 * time.Millisecond

// dedupeContext bounds one duplicate-record read or write by
// dedupeTimeout and the event's deadline. It keeps ctx's values but not
// its cancellation (the server's, at the end of a shutdown): the bound is
// short, and a purge that was made should still be recorded.
func (p *Pipeline) dedupeContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.WithoutCancel(ctx), earliest(deadline, time.Now().Add(dedupeTimeout)))
}

// duplicate reports whether ev was already purged. Only the hooks'
// deliveries are checked: a person's purge is never a duplicate. When the
// record cannot be read, the event is purged again: purging twice is
// harmless, not purging is not.
func (p *Pipeline) duplicate(ctx context.Context, deadline time.Time, ev *event.Event) bool {
	if p.cfg.Dedupe == nil || !ev.Source.Redelivered() || ev.ID == "" {
		return false
	}
	ctx, span := tracing.Start(ctx, "duplicate check")
	defer span.End()
	ctx, cancel := p.dedupeContext(ctx, deadline)
	defer cancel()
	seen, err := p.cfg.Dedupe.Seen(ctx, ev.ID)
	if err != nil {
		span.SetStatus(codes.Error, "duplicate check failed")
		p.log.Warn("duplicate check failed, purging anyway", "id", ev.ID, "err", err)
		return false
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("edgepurge.duplicate", seen))
	}
	return seen
}

// markPurged records a successful purge, so the sender's retries are
// duplicates. Only success is recorded: a failed event must stay retryable.
func (p *Pipeline) markPurged(ctx context.Context, deadline time.Time, ev *event.Event) {
	if p.cfg.Dedupe == nil || !ev.Source.Redelivered() || ev.ID == "" {
		return
	}
	ctx, cancel := p.dedupeContext(ctx, deadline)
	defer cancel()
	if _, err := p.cfg.Dedupe.MarkPurged(ctx, ev.ID); err != nil {
		p.log.Warn("could not record the purged event id; a retry will purge again", "id", ev.ID, "err", err)
	}
}

// notePanics counts and logs every backend of a that panicked: the chain
// recovered the panic and answered it as a failed result.
func (p *Pipeline) notePanics(requestID, id string, a *chain.Answer) {
	for _, r := range a.Results {
		if r.Error == chain.PanicError {
			p.cfg.Metrics.Panics.Inc()
			p.log.Error("panic in backend", "request_id", requestID, "id", id, "backend", r.Backend)
		}
	}
}

// audit records an answer in the audit trail, when there is one.
func (p *Pipeline) audit(source string, a *chain.Answer, httpStatus int) {
	if p.cfg.Audit != nil {
		p.cfg.Audit.Record(audit.FromAnswer(source, a, httpStatus, time.Now()))
	}
}
