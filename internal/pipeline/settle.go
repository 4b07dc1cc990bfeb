package pipeline

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/fanout"
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
//     was purged, but the answer is 503 with Retry-After, never 2xx, and
//     the id is not marked, so the sender's retry plans and purges again.
//   - Anything unfinished: see unfinished.
func (p *Pipeline) settle(ctx context.Context, deadline time.Time, ev event.Event, a fanout.Answer) Outcome {
	incomplete := a.Plan.Incomplete && a.Status != fanout.StatusDryRun
	switch {
	case a.OK() && !incomplete:
		if a.Status == fanout.StatusPurged {
			p.markPurged(ctx, deadline, ev)
		}
		return Outcome{HTTPStatus: http.StatusOK, Answer: a}
	case a.OK():
		a.Status = fanout.StatusPartial
		return Outcome{HTTPStatus: http.StatusServiceUnavailable, RetryAfter: retryAfterIncomplete, Answer: a}
	}
	ctx, cancel := withDeadline(ctx, deadline)
	defer cancel()
	o := p.unfinished(ctx, ev, a)
	if incomplete && o.HTTPStatus < 300 {
		// Not reached: an incomplete plan is never journaled.
		o.HTTPStatus, o.RetryAfter = http.StatusServiceUnavailable, retryAfterIncomplete
	}
	return o
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
func (p *Pipeline) unfinished(ctx context.Context, ev event.Event, a fanout.Answer) Outcome {
	var journalErr error
	if p.cfg.Journal != nil && a.Status != fanout.StatusStale && !a.Plan.Incomplete {
		id, ok, err := p.cfg.Journal.Journal(ctx, string(ev.Source), a)
		switch {
		case ok && err == nil:
			a.Status, a.JournalID = fanout.StatusJournaled, id
			return Outcome{HTTPStatus: http.StatusAccepted, Answer: a}
		case ok:
			journalErr = err
			a.JournalError = "the unfinished part could not be journaled; retry the event: " + err.Error()
		}
	}
	if failed, skipped := a.StoppedAt(); failed != "" && failed == p.cfg.KeysBackend && len(skipped) > 0 {
		p.log.Warn("redis step failed and cannot be journaled: purging the CDNs now", "id", ev.ID, "cdns", skipped)
		a.Merge(p.cfg.Purger.RunOn(ctx, skipped, ev.ID, a.Plan))
	}
	if journalErr != nil {
		return Outcome{HTTPStatus: http.StatusServiceUnavailable, RetryAfter: retryAfterJournal, Answer: a}
	}
	if a.Plan.Incomplete {
		return Outcome{HTTPStatus: http.StatusServiceUnavailable, RetryAfter: retryAfterIncomplete, Answer: a}
	}
	if a.Backpressure() {
		// Not sent in time: the CDN budget is spent. Come back later.
		return Outcome{HTTPStatus: http.StatusServiceUnavailable, RetryAfter: retryAfterBudget, Answer: a}
	}
	return Outcome{HTTPStatus: http.StatusBadGateway, Answer: a}
}

// record audits, counts and logs a purged (or unfinished) event.
func (p *Pipeline) record(r Request, o Outcome) {
	ev, a, pl := r.Event, o.Answer, o.Answer.Plan
	p.cfg.Metrics.Event(string(ev.Source), a.Status).Inc()
	p.audit(string(ev.Source), a, o.HTTPStatus)
	lag := time.Duration(-1)
	if a.Status == fanout.StatusPurged && !ev.OccurredAt.IsZero() {
		lag = time.Since(ev.OccurredAt)
		p.cfg.Metrics.FreshnessLag.Observe(lag.Seconds())
		lag = max(lag, 0) // a sender's clock ahead of ours
	}
	if p.cfg.History != nil {
		p.cfg.History.Observe(a.Status, lag)
	}
	// Attrs, not key-value pairs: no boxing, no slice per event.
	var buf [16]slog.Attr
	attrs := append(buf[:0], slog.String("request_id", r.RequestID), slog.String("id", ev.ID),
		slog.String("source", string(ev.Source)), slog.String("type", string(ev.Type)),
		slog.String("page", ev.PageID), slog.String("status", a.Status), slog.Int("http_status", o.HTTPStatus),
		slog.Int("urls", len(pl.URLs)), slog.Int("tags", len(pl.Tags)), slog.Int("keys", len(pl.Keys)+len(pl.KeySets)),
		slog.Float64("duration_ms", a.DurationMS))
	for _, res := range a.Results {
		if res.Error != "" {
			attrs = append(attrs, slog.String(res.Backend+"_error", res.Error))
		}
	}
	ctx := context.Background()
	switch {
	case a.Status == fanout.StatusDryRun:
		p.log.LogAttrs(ctx, slog.LevelInfo, "event planned, not purged (dry run)", attrs...)
	case o.HTTPStatus == http.StatusOK:
		p.log.LogAttrs(ctx, slog.LevelInfo, "event purged", attrs...)
	case o.HTTPStatus == http.StatusAccepted:
		p.log.LogAttrs(ctx, slog.LevelWarn, "event journaled for re-drive", append(attrs, slog.String("journal_id", a.JournalID))...)
	default:
		p.log.LogAttrs(ctx, slog.LevelError, "event not purged", attrs...)
	}
}
