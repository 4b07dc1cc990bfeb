package server

import (
	"context"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/audit"
)

// PurgeLister reads the audit trail of purges (package audit).
type PurgeLister interface {
	List(ctx context.Context, f audit.Filter) audit.Listing
}

// listTimeout bounds the reading of the audit trail.
const listTimeout = 5 * time.Second

// handlePurges serves GET /v1/purges?limit=&page_id=&status=&source=: the
// recent purges, newest first, for the bearer of the API token.
func (s *Server) handlePurges(ctx *fasthttp.RequestCtx) {
	if !s.authorized(ctx) {
		return
	}
	if s.cfg.Purges == nil {
		s.fail(ctx, fasthttp.StatusNotFound, "the audit trail is disabled (audit.disabled)")
		return
	}
	q := ctx.QueryArgs()
	f := audit.Filter{PageID: string(q.Peek("page_id")), Status: string(q.Peek("status")), Source: string(q.Peek("source"))}
	if err := f.Check(); err != nil {
		s.fail(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	if v := q.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > audit.MaxLimit {
			s.fail(ctx, fasthttp.StatusBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(audit.MaxLimit))
			return
		}
		f.Limit = n
	}
	lctx, cancel := context.WithTimeout(s.baseCtx, listTimeout)
	defer cancel()
	writeJSON(ctx, fasthttp.StatusOK, s.cfg.Purges.List(lctx, f))
}
