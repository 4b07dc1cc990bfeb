package server

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/fanout"
)

// Journaler records the unfinished part of a purge durably, for the
// background re-driver (package journal).
type Journaler interface {
	// Journal writes a's unfinished part. ok is false when a has none that
	// may be journaled (a backend refused for good); err says the write
	// failed.
	Journal(ctx context.Context, source string, a fanout.Answer) (id string, ok bool, err error)
}

// Retry-After of the non-2xx answers of an unfinished purge, in seconds.
const (
	retryAfterBudget  = "1" // the CDN budget is spent: soon
	retryAfterJournal = "5" // Redis is down: the time for a restart
)

// unfinished answers a purge that did not complete, and returns the
// status code: a 2xx only when the unfinished part is durably journaled.
//
//   - Every failure may pass on a retry (the CDN failed, throttled or its
//     circuit is open, the budget ran out, Redis failed): journaled, 202
//     with the entry's id. The journal cannot be written (it lives in
//     Redis): 503 with Retry-After, so the caller retries the event.
//   - A backend refused for good (a bad zone, a bad token), a backend
//     panicked, or the edge still served a stale copy: 502.
//   - No journal configured: the budget ran out, 503 with Retry-After;
//     otherwise 502.
func (s *Server) unfinished(ctx *fasthttp.RequestCtx, ev event.Event, a *fanout.Answer) int {
	if s.cfg.Journal != nil && a.Status != fanout.StatusStale {
		id, ok, err := s.cfg.Journal.Journal(s.baseCtx, string(ev.Source), *a)
		switch {
		case ok && err == nil:
			a.Status, a.JournalID = fanout.StatusJournaled, id
			return fasthttp.StatusAccepted
		case ok:
			a.JournalError = "the unfinished part could not be journaled; retry the event: " + err.Error()
			ctx.Response.Header.Set("Retry-After", retryAfterJournal)
			return fasthttp.StatusServiceUnavailable
		}
	}
	if a.Backpressure() {
		// Not sent in time: the CDN budget is spent. Come back later.
		ctx.Response.Header.Set("Retry-After", retryAfterBudget)
		return fasthttp.StatusServiceUnavailable
	}
	return fasthttp.StatusBadGateway
}
