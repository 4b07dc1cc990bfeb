package server

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/journal"
)

// JournalAdmin is the re-drive journal as the console sees it: its
// listings and the replay now (package journal, through package app).
type JournalAdmin interface {
	// Pending lists up to limit entries still to purge after the entry
	// after ("" from the oldest), oldest first.
	Pending(ctx context.Context, after string, limit int) (journal.Page[journal.Pending], error)
	// Dead lists up to limit dead letters after the one after.
	Dead(ctx context.Context, after string, limit int) (journal.Page[journal.Dead], error)
	// Replay re-drives now every journal entry (dead: every dead letter),
	// or only the one of id (none when it is gone). It fails with
	// ErrDryRun on a dry-run instance.
	Replay(ctx context.Context, dead bool, id string) ([]journal.Replayed, error)
}

// ErrDryRun refuses a replay on a dry-run instance: nothing would be
// purged (answered 409).
var ErrDryRun = errors.New("the config is a dry run (EDGEPURGE_DRY_RUN=true): nothing would be purged")

// Limits of the journal listings' limit.
const (
	journalDefaultLimit = 50
	journalMaxLimit     = 1000
)

// defaultReplayTimeout bounds a replay when Config.ReplayTimeout is 0.
const defaultReplayTimeout = 30 * time.Second

// entryID is the shape of a Redis Stream entry id.
var entryID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// journalListing is the answer of GET /v1/journal and /v1/journal/dead.
type journalListing[T any] struct {
	// Total is how many entries the stream holds.
	Total int64 `json:"total"`
	// OldestFirstFailure is the earliest first failure of the listed
	// entries (the first page starts with the oldest), and
	// OldestAgeSeconds its age; absent when none are listed.
	OldestFirstFailure *time.Time `json:"oldest_first_failure,omitempty"`
	OldestAgeSeconds   float64    `json:"oldest_age_seconds,omitempty"`
	Entries            []T        `json:"entries"`
	// Next is the after of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

// replayAll is the answer of POST /v1/journal/dead/replay.
type replayAll struct {
	Replayed []journal.Replayed `json:"replayed"`
	Purged   int                `json:"purged"`
	Failed   int                `json:"failed"`
}

// routeJournal dispatches /v1/journal...:
//
//	GET  /v1/journal                   pending entries
//	GET  /v1/journal/dead              dead letters
//	POST /v1/journal/dead/replay       replay every dead letter
//	POST /v1/journal/{id}/replay       replay one entry
//	POST /v1/journal/dead/{id}/replay  replay one dead letter
func (s *Server) routeJournal(ctx *fasthttp.RequestCtx, path string) {
	rest := strings.TrimPrefix(path, "/v1/journal")
	switch {
	case rest == "":
		s.only(ctx, fasthttp.MethodGet, func(ctx *fasthttp.RequestCtx) { s.handleJournalList(ctx, false) })
	case rest == "/dead":
		s.only(ctx, fasthttp.MethodGet, func(ctx *fasthttp.RequestCtx) { s.handleJournalList(ctx, true) })
	case rest == "/dead/replay":
		s.only(ctx, fasthttp.MethodPost, func(ctx *fasthttp.RequestCtx) { s.handleReplay(ctx, true, "") })
	case strings.HasPrefix(rest, "/dead/") && strings.HasSuffix(rest, "/replay"):
		id := strings.TrimSuffix(strings.TrimPrefix(rest, "/dead/"), "/replay")
		s.only(ctx, fasthttp.MethodPost, func(ctx *fasthttp.RequestCtx) { s.handleReplay(ctx, true, id) })
	case strings.HasPrefix(rest, "/") && strings.HasSuffix(rest, "/replay"):
		id := strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/replay")
		s.only(ctx, fasthttp.MethodPost, func(ctx *fasthttp.RequestCtx) { s.handleReplay(ctx, false, id) })
	default:
		s.fail(ctx, fasthttp.StatusNotFound, "no such endpoint; the endpoints are "+endpoints)
	}
}

// journalReady answers 404 when the journal is off.
func (s *Server) journalReady(ctx *fasthttp.RequestCtx) bool {
	if s.cfg.Journal == nil {
		s.fail(ctx, fasthttp.StatusNotFound, "the journal is disabled (journal.disabled)")
		return false
	}
	return true
}

// handleJournalList serves GET /v1/journal[/dead]?limit=&after=.
func (s *Server) handleJournalList(ctx *fasthttp.RequestCtx, dead bool) {
	if !s.authorized(ctx) || !s.journalReady(ctx) {
		return
	}
	q := ctx.QueryArgs()
	limit := journalDefaultLimit
	if v := q.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > journalMaxLimit {
			s.fail(ctx, fasthttp.StatusBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(journalMaxLimit))
			return
		}
		limit = n
	}
	after := string(q.Peek("after"))
	if after != "" && !entryID.MatchString(after) {
		s.fail(ctx, fasthttp.StatusBadRequest, "after must be a journal entry id such as 1764184525000-0")
		return
	}
	lctx, cancel := context.WithTimeout(s.baseCtx, listTimeout)
	defer cancel()
	var err error
	if dead {
		var p journal.Page[journal.Dead]
		if p, err = s.cfg.Journal.Dead(lctx, after, limit); err == nil {
			writeJSON(ctx, fasthttp.StatusOK, listing(p, func(d journal.Dead) time.Time { return d.FirstFailure }))
			return
		}
	} else {
		var p journal.Page[journal.Pending]
		if p, err = s.cfg.Journal.Pending(lctx, after, limit); err == nil {
			writeJSON(ctx, fasthttp.StatusOK, listing(p, func(e journal.Pending) time.Time { return e.FirstFailure }))
			return
		}
	}
	s.log.Warn("journal listing failed", "request_id", requestID(ctx), "dead", dead, "err", err)
	s.fail(ctx, fasthttp.StatusServiceUnavailable, "the journal could not be read; retry")
}

// listing makes the answer of a page of entries.
func listing[T any](p journal.Page[T], firstFailure func(T) time.Time) journalListing[T] {
	l := journalListing[T]{Total: p.Total, Entries: p.Items, Next: p.Next}
	if l.Entries == nil {
		l.Entries = []T{}
	}
	for _, e := range p.Items {
		if t := firstFailure(e); !t.IsZero() && (l.OldestFirstFailure == nil || t.Before(*l.OldestFirstFailure)) {
			l.OldestFirstFailure = &t
		}
	}
	if l.OldestFirstFailure != nil {
		l.OldestAgeSeconds = max(time.Since(*l.OldestFirstFailure).Seconds(), 0)
	}
	return l
}

// handleReplay serves the replay endpoints: every dead letter (id ""), or
// one entry of the journal or the dead letters.
func (s *Server) handleReplay(ctx *fasthttp.RequestCtx, dead bool, id string) {
	if !s.authorized(ctx) || !s.journalReady(ctx) {
		return
	}
	all := dead && id == ""
	if !all && !entryID.MatchString(id) {
		s.fail(ctx, fasthttp.StatusNotFound, "no journal entry "+sanitize(id))
		return
	}
	timeout := s.cfg.ReplayTimeout
	if timeout <= 0 {
		timeout = defaultReplayTimeout
	}
	rctx, cancel := context.WithTimeout(s.baseCtx, timeout)
	defer cancel()
	res, err := s.cfg.Journal.Replay(rctx, dead, id)
	switch {
	case errors.Is(err, ErrDryRun):
		s.fail(ctx, fasthttp.StatusConflict, "replay: "+ErrDryRun.Error())
		return
	case err != nil:
		s.log.Warn("replay failed", "request_id", requestID(ctx), "dead", dead, "id", id, "err", err)
		s.fail(ctx, fasthttp.StatusServiceUnavailable, "the journal could not be read; retry")
		return
	}
	s.log.Info("replay from the API", "request_id", requestID(ctx), "dead", dead, "id", id, "entries", len(res))
	if all {
		out := replayAll{Replayed: res}
		if out.Replayed == nil {
			out.Replayed = []journal.Replayed{}
		}
		for _, r := range res {
			if r.Status == chain.StatusPurged {
				out.Purged++
			} else {
				out.Failed++
			}
		}
		writeJSON(ctx, fasthttp.StatusOK, out)
		return
	}
	if len(res) == 0 {
		where := "journal"
		if dead {
			where = "dead-letter"
		}
		s.fail(ctx, fasthttp.StatusNotFound, "no "+where+" entry "+id+" (already purged, or never there)")
		return
	}
	status := fasthttp.StatusOK
	if res[0].Status != chain.StatusPurged {
		status = fasthttp.StatusBadGateway
	}
	writeJSON(ctx, status, res[0])
}
