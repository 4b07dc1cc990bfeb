package pipeline

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// Retry-After of the non-2xx answers of an unfinished purge, in seconds.
const (
	retryAfterBudget  = "1" // the CDN budget is spent: soon
	retryAfterJournal = "5" // Redis is down: the time for a restart
	// retryAfterIncomplete: the page registry could not be read; it
	// answers again after a Redis restart or failover.
	retryAfterIncomplete = "5"
)

// settle turns a purge's answer into the outcome:
//
//   - Everything purged from a complete plan: 200, and the id is marked
//     purged, so the sender's retries are duplicates.
//   - An incomplete plan (some of the page may be missing): what it named
//     was purged, but the answer is 503 with Retry-After, never 2xx (a
//     dry run's included), and the id is not marked, so the sender's
//     retry plans and purges again.
//   - Anything unfinished: see unfinished.
//
// It settles o in place: o.Answer is the purge's answer.
func (p *Pipeline) settle(ctx context.Context, deadline time.Time, ev *event.Event, o *Outcome) {
	a := &o.Answer
	incomplete := a.Plan.Incomplete
	switch {
	case a.OK() && !incomplete:
		if a.Status == chain.StatusPurged {
			p.markPurged(ctx, deadline, ev)
		}
		o.HTTPStatus = http.StatusOK
		return
	case a.OK():
		// A dry run of an incomplete plan stays a dry run (nothing was
		// purged), but is no more a 2xx than a purge of one would be:
		// the plan it shows may miss some of the page.
		if a.Status != chain.StatusDryRun {
			a.Status = chain.StatusPartial
		}
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterIncomplete
		return
	}
	// The unfinished part is recorded even when ctx ended (the cut-off):
	// that is what the cut-off leaves time for.
	ctx, cancel := withDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	p.unfinished(ctx, ev, o)
	if incomplete && o.HTTPStatus < 300 {
		// Not reached: an incomplete plan is never journaled.
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterIncomplete
	}
}

// unfinished answers a purge that did not complete: a 2xx only when the
// unfinished part (the failed step and the steps skipped after it) is
// durably journaled.
//
//   - Every failure may pass on a retry (the CDN failed, throttled or its
//     circuit is open, the budget ran out, Redis failed): journaled, 202
//     with the entry's id. The journal cannot be written (it lives in
//     Redis): 503 with Retry-After, so the caller retries the event.
//   - A backend refused for good (a bad zone, a bad token), a backend
//     panicked, or the edge still served a stale copy: 502.
//   - No journal configured: the budget ran out, 503 with Retry-After;
//     otherwise 502.
//
// The one exception to the order of the chain: when the Redis step failed
// and the CDN steps after it cannot be recorded (Redis is unreachable, so
// the journal is too; or there is no journal), they are purged now. The
// origin cannot serve from an unreachable Redis either, so purging the
// CDNs cannot refill them from it, and leaving them would leave the page
// stale for as long as Redis is down. The answer stays non-2xx.
//
// It settles o in place, as settle does.
func (p *Pipeline) unfinished(ctx context.Context, ev *event.Event, o *Outcome) {
	a := &o.Answer
	var journalErr error
	if p.cfg.Journal != nil && a.Status != chain.StatusStale && !a.Plan.Incomplete {
		id, ok, err := p.cfg.Journal.Journal(ctx, string(ev.Source), a)
		switch {
		case ok && err == nil:
			a.Status, a.JournalID = chain.StatusJournaled, id
			o.HTTPStatus = http.StatusAccepted
			return
		case ok:
			journalErr = err
			a.JournalError = "the unfinished part could not be journaled; retry the event: " + err.Error()
		}
	}
	p.purgeSkipped(ctx, ev.ID, a)
	switch {
	case journalErr != nil:
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterJournal
	case a.Plan.Incomplete:
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterIncomplete
	case a.Backpressure():
		// Not sent in time: the CDN budget is spent. Come back later.
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterBudget
	default:
		o.HTTPStatus = http.StatusBadGateway
	}
}

// purgeSkipped purges now the CDN steps skipped after a failed Redis step
// that cannot be journaled (see unfinished), if there are any, and merges
// what they did into a.
func (p *Pipeline) purgeSkipped(ctx context.Context, id string, a *chain.Answer) {
	failed, skipped := a.StoppedAt()
	if failed == "" || failed != p.cfg.KeysBackend || len(skipped) == 0 {
		return
	}
	p.log.Warn("redis step failed and cannot be journaled: purging the CDNs now", "id", id, "cdns", skipped)
	b := new(chain.Answer)
	p.cfg.Purger.RunOn(ctx, skipped, id, &a.Plan, b)
	a.Merge(b)
}

// record audits, counts and logs a purged (or unfinished) event. The
// freshness lag of a sampled event carries its trace id (an exemplar).
func (p *Pipeline) record(ctx context.Context, r *Request, o *Outcome) {
	ev, a := &r.Event, &o.Answer
	p.cfg.Metrics.Event(string(ev.Source), a.Status).Inc()
	p.audit(string(ev.Source), a, o.HTTPStatus)
	lag := time.Duration(-1)
	if a.Status == chain.StatusPurged && !ev.OccurredAt.IsZero() {
		lag = time.Since(ev.OccurredAt)
		p.cfg.Metrics.ObserveFreshnessLag(lag, tracing.TraceID(ctx))
		lag = max(lag, 0) // a sender's clock ahead of ours
	}
	if p.cfg.History != nil {
		p.cfg.History.Observe(a.Status, lag)
	}
	attrs := outcomeAttrs(r, o)
	ctx = context.Background() // the log's: no deadline to honour
	switch {
	case a.Status == chain.StatusDryRun:
		p.log.LogAttrs(ctx, slog.LevelInfo, "event planned, not purged (dry run)", attrs...)
	case o.HTTPStatus == http.StatusOK:
		p.log.LogAttrs(ctx, slog.LevelInfo, "event purged", attrs...)
	case o.HTTPStatus == http.StatusAccepted:
		p.log.LogAttrs(ctx, slog.LevelWarn, "event journaled for re-drive", append(attrs, slog.String("journal_id", a.JournalID))...)
	default:
		p.log.LogAttrs(ctx, slog.LevelError, "event not purged", attrs...)
	}
}

// outcomeAttrs returns the attributes of r's log line.
func outcomeAttrs(r *Request, o *Outcome) []slog.Attr {
	ev, a, pl := &r.Event, &o.Answer, &o.Answer.Plan
	attrs := []slog.Attr{slog.String("request_id", r.RequestID), slog.String("id", ev.ID),
		slog.String("source", string(ev.Source)), slog.String("type", string(ev.Type)),
		slog.String("page", ev.PageID), slog.String("status", a.Status), slog.Int("http_status", o.HTTPStatus),
		slog.Int("urls", len(pl.URLs)), slog.Int("tags", len(pl.Tags)), slog.Int("keys", len(pl.Keys)+len(pl.KeySets)),
		// Whole milliseconds (the answer has the fraction): slog's JSON
		// handler writes a float through encoding/json, its slow path.
		slog.Int64("duration_ms", int64(math.Round(a.DurationMS)))}
	for i := range a.Results {
		if res := &a.Results[i]; res.Error != "" {
			attrs = append(attrs, slog.String(res.Backend+"_error", res.Error))
		}
	}
	return attrs
}
