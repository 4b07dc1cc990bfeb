package server

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/registry"
)

// PagesAPI serves /v1/pages (package pages).
type PagesAPI interface {
	Get(ctx context.Context, pageID, incidentID string) (pages.View, error)
	Put(ctx context.Context, ws []pages.Write, bulk bool, actor, requestID string) ([]pages.Result, []string, error)
	List(ctx context.Context, cursor string, limit int, host string) ([]pages.Entry, string, error)
}

// pagesTimeout bounds one pages request's Redis work.
const pagesTimeout = 5 * time.Second

// apiTokenActor names the API token in the audit trail: the one credential
// the pages API takes, by its config key.
const apiTokenActor = "api_token"

// defaultPagesLimit is GET /v1/pages's limit when none is given.
const defaultPagesLimit = 100

// routePages dispatches /v1/pages and /v1/pages/{page_id}.
func (s *Server) routePages(ctx *fasthttp.RequestCtx, path string) {
	rest := strings.TrimPrefix(path, "/v1/pages")
	if rest == "" {
		s.methods(ctx, map[string]fasthttp.RequestHandler{
			fasthttp.MethodGet: s.handlePagesList,
			fasthttp.MethodPut: s.handlePagesBulk,
		})
		return
	}
	id := strings.TrimPrefix(rest, "/")
	if id == "" || strings.Contains(id, "/") {
		s.fail(ctx, fasthttp.StatusNotFound, "no such endpoint; the endpoints are "+endpoints)
		return
	}
	s.methods(ctx, map[string]fasthttp.RequestHandler{
		fasthttp.MethodGet:    func(ctx *fasthttp.RequestCtx) { s.handlePageGet(ctx, id) },
		fasthttp.MethodPut:    func(ctx *fasthttp.RequestCtx) { s.handlePagePut(ctx, id) },
		fasthttp.MethodDelete: func(ctx *fasthttp.RequestCtx) { s.handlePageDelete(ctx, id) },
	})
}

// methods is only for a path with several methods.
func (s *Server) methods(ctx *fasthttp.RequestCtx, hs map[string]fasthttp.RequestHandler) {
	method := string(ctx.Method())
	if method == fasthttp.MethodHead {
		method = fasthttp.MethodGet
	}
	if h, ok := hs[method]; ok {
		h(ctx)
		return
	}
	allow := make([]string, 0, len(hs)+1)
	for m := range hs {
		allow = append(allow, m)
		if m == fasthttp.MethodGet {
			allow = append(allow, fasthttp.MethodHead)
		}
	}
	slices.Sort(allow)
	ctx.Response.Header.Set("Allow", strings.Join(allow, ", "))
	s.fail(ctx, fasthttp.StatusMethodNotAllowed, "method "+sanitize(string(ctx.Method()))+" not allowed; use "+strings.Join(allow, ", "))
}

// pagesReady answers 401 without the API token, 404 when the API is off.
func (s *Server) pagesReady(ctx *fasthttp.RequestCtx) bool {
	if !s.authorized(ctx) {
		return false
	}
	if s.cfg.Pages == nil {
		s.fail(ctx, fasthttp.StatusNotFound, "the pages API is not configured")
		return false
	}
	return true
}

func (s *Server) pagesContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.baseCtx, pagesTimeout)
}

// handlePageGet serves GET /v1/pages/{page_id}?incident_id=.
func (s *Server) handlePageGet(ctx *fasthttp.RequestCtx, id string) {
	if !s.pagesReady(ctx) {
		return
	}
	incident := string(ctx.QueryArgs().Peek("incident_id"))
	rctx, cancel := s.pagesContext()
	defer cancel()
	v, err := s.cfg.Pages.Get(rctx, id, incident)
	if err != nil {
		s.pageError(ctx, err)
		return
	}
	if v.ETag != "" {
		ctx.Response.Header.Set("ETag", quoteETag(v.ETag))
	}
	writeJSON(ctx, fasthttp.StatusOK, v)
}

// pageBody is the body of PUT /v1/pages/{page_id}.
type pageBody struct {
	Hosts        []string `json:"hosts"`
	Zone         string   `json:"zone"`
	plan.Options `json:",inline"`
}

// bulkBody is the body of PUT /v1/pages.
type bulkBody struct {
	Pages []pages.Write `json:"pages"`
}

// handlePagePut serves PUT /v1/pages/{page_id} (If-Match optional).
func (s *Server) handlePagePut(ctx *fasthttp.RequestCtx, id string) {
	if !s.pagesReady(ctx) || !s.pageJSON(ctx) {
		return
	}
	var b pageBody
	if err := event.DecodeObjectStrict(ctx.PostBody(), &b); err != nil {
		s.pageError(ctx, configOnly(err))
		return
	}
	w := pages.Write{ID: id, Hosts: b.Hosts, Zone: b.Zone, Options: b.Options, IfMatch: ifMatch(ctx)}
	s.pageWrite(ctx, w)
}

// handlePageDelete serves DELETE /v1/pages/{page_id} (If-Match optional).
func (s *Server) handlePageDelete(ctx *fasthttp.RequestCtx, id string) {
	if !s.pagesReady(ctx) {
		return
	}
	s.pageWrite(ctx, pages.Write{ID: id, Delete: true, IfMatch: ifMatch(ctx)})
}

func (s *Server) pageWrite(ctx *fasthttp.RequestCtx, w pages.Write) {
	rctx, cancel := s.pagesContext()
	defer cancel()
	results, warnings, err := s.cfg.Pages.Put(rctx, []pages.Write{w}, false, apiTokenActor, requestID(ctx))
	if err != nil {
		s.pageError(ctx, err)
		return
	}
	r := results[0]
	status := fasthttp.StatusOK
	if r.Result == registry.ResultCreated {
		status = fasthttp.StatusCreated
	}
	if r.ETag != "" {
		ctx.Response.Header.Set("ETag", quoteETag(r.ETag))
	}
	writeJSON(ctx, status, writeAnswer{Result: r, Warnings: warnings})
}

// writeAnswer is the answer of a write of one page.
type writeAnswer struct {
	pages.Result
	Warnings []string `json:"warnings,omitempty"`
}

// bulkAnswer is the answer of PUT /v1/pages.
type bulkAnswer struct {
	Results  []pages.Result `json:"results"`
	Warnings []string       `json:"warnings,omitempty"`
}

// handlePagesBulk serves PUT /v1/pages: every entry written, or none.
func (s *Server) handlePagesBulk(ctx *fasthttp.RequestCtx) {
	if !s.pagesReady(ctx) || !s.pageJSON(ctx) {
		return
	}
	var b bulkBody
	if err := event.DecodeObjectStrict(ctx.PostBody(), &b); err != nil {
		s.pageError(ctx, configOnly(err))
		return
	}
	if b.Pages == nil {
		s.fail(ctx, fasthttp.StatusBadRequest, `field "pages": required: a list of {"id", "hosts", "zone", "if_match", "delete"}`)
		return
	}
	rctx, cancel := s.pagesContext()
	defer cancel()
	results, warnings, err := s.cfg.Pages.Put(rctx, b.Pages, true, apiTokenActor, requestID(ctx))
	if err != nil {
		s.pageError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, bulkAnswer{Results: results, Warnings: warnings})
}

// listAnswer is the answer of GET /v1/pages.
type listAnswer struct {
	Pages []pages.Entry `json:"pages"`
	// Cursor continues the listing; empty at its end.
	Cursor string `json:"cursor,omitempty"`
}

// handlePagesList serves GET /v1/pages?host=&cursor=&limit=.
func (s *Server) handlePagesList(ctx *fasthttp.RequestCtx) {
	if !s.pagesReady(ctx) {
		return
	}
	q := ctx.QueryArgs()
	limit := defaultPagesLimit
	if v := q.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > registry.MaxListLimit {
			s.fail(ctx, fasthttp.StatusBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(registry.MaxListLimit))
			return
		}
		limit = n
	}
	host := string(q.Peek("host"))
	if len(host) > event.MaxHostLen {
		s.fail(ctx, fasthttp.StatusBadRequest, "host: longer than a hostname may be")
		return
	}
	rctx, cancel := s.pagesContext()
	defer cancel()
	list, next, err := s.cfg.Pages.List(rctx, string(q.Peek("cursor")), limit, host)
	if err != nil {
		s.pageError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, listAnswer{Pages: list, Cursor: next})
}

// pageJSON answers 415 unless the body is JSON.
func (s *Server) pageJSON(ctx *fasthttp.RequestCtx) bool {
	if !isJSON(ctx) {
		s.fail(ctx, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	return true
}

// conflictBody is the answer of a version conflict: the current ETag.
type conflictBody struct {
	Error string `json:"error"`
	ID    string `json:"id"`
	// ETag is the entry's current ETag; empty when it does not exist.
	ETag      string `json:"etag"`
	RequestID string `json:"request_id,omitempty"`
}

// pageError answers err of the pages API with its status.
func (s *Server) pageError(ctx *fasthttp.RequestCtx, err error) {
	var (
		invalid    *pages.InvalidError
		configured *pages.ConfiguredError
		conflict   *registry.ConflictError
		field      *event.FieldError
		syntax     *event.SyntaxError
		cursor     *registry.CursorError
	)
	switch {
	case errors.As(err, &invalid):
		s.fail(ctx, fasthttp.StatusUnprocessableEntity, err.Error())
	case errors.As(err, &configured):
		s.fail(ctx, fasthttp.StatusConflict, err.Error())
	case errors.Is(err, pages.ErrDisabled):
		s.fail(ctx, fasthttp.StatusConflict, err.Error())
	case errors.As(err, &conflict):
		writeJSON(ctx, fasthttp.StatusPreconditionFailed, conflictBody{Error: "If-Match: " + err.Error(), ID: conflict.ID, ETag: conflict.ETag, RequestID: requestID(ctx)})
	case errors.Is(err, pages.ErrNotFound):
		s.fail(ctx, fasthttp.StatusNotFound, err.Error())
	case errors.As(err, &field), errors.As(err, &syntax), errors.As(err, &cursor):
		s.fail(ctx, fasthttp.StatusBadRequest, err.Error())
	default:
		s.log.Error("pages API: the registry failed", "err", err, "request_id", requestID(ctx))
		ctx.Response.Header.Set("Retry-After", "1")
		s.fail(ctx, fasthttp.StatusServiceUnavailable, "the page registry in Redis could not be read or written; nothing was changed unless the answer to a retry says unchanged: retry")
	}
}

// configOnly explains an unknown field, edge_check above all: a page
// option of the config file only.
func configOnly(err error) error {
	var fe *event.FieldError
	if !errors.As(err, &fe) || fe.Reason != "unknown field" {
		return err
	}
	name := fe.Field
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name == "edge_check" {
		return &event.FieldError{Field: fe.Field, Reason: "a page option of the config file only (pages.<id>.edge_check, or defaults.edge_check for registry pages): it makes edgepurge fetch an address"}
	}
	return &event.FieldError{Field: fe.Field, Reason: "unknown field; a page entry has hosts, zone and the options schemes, paths, tags, keys, key_sets, cdn_order, soft_purge, cover (and, in a bulk write, id, if_match and delete)"}
}

// ifMatch is the If-Match header's ETag, unquoted ("*" stays). A weak
// ETag (W/"…") is kept as it is, so that it never matches: If-Match
// compares strongly (RFC 9110, 13.1.1).
func ifMatch(ctx *fasthttp.RequestCtx) string {
	v := strings.TrimSpace(string(ctx.Request.Header.Peek("If-Match")))
	if strings.HasPrefix(v, "W/") {
		return v
	}
	return strings.Trim(v, `"`)
}

func quoteETag(e string) string { return `"` + e + `"` }
