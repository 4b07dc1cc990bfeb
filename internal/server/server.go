// Package server is edgepurge's HTTP surface on fasthttp: the hooks, the
// manual purge, the probes and /metrics, the journal and the on-call
// console. Handlers only authenticate, parse, hand the event to the
// pipeline (package pipeline) or the journal and write its answer.
package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// SignatureVerifier checks a Standard Webhooks signature (package webhook).
type SignatureVerifier interface {
	Verify(id, timestamp, signatures string, body []byte, now time.Time) error
}

// Config is what a Server needs.
type Config struct {
	// Pipeline takes every authenticated, parsed event through its life.
	Pipeline *pipeline.Pipeline
	// Signatures verifies the signatures of /v1/hooks/events; nil answers every such request 401.
	Signatures SignatureVerifier
	// StatuspageToken is the path token of /v1/hooks/statuspage/{token};
	// empty disables the endpoint.
	StatuspageToken string
	// APIToken is the bearer token of /v1/purge; empty disables it.
	APIToken string
	// Purges serves GET /v1/purges; nil answers it 404.
	Purges PurgeLister
	// Journal serves GET /v1/journal[/dead] and the replays; nil (the
	// journal is off) answers them 404.
	Journal JournalAdmin
	// ReplayTimeout bounds one replay request (30 s when 0).
	ReplayTimeout time.Duration
	// Stats serves GET /v1/stats; nil answers it 404.
	Stats StatsSource
	// Backends serves GET /v1/backends; nil answers it 404.
	Backends func() BackendsReport
	// Pages serves /v1/pages; nil answers it 404.
	Pages PagesAPI
	// Context is the parent of the purges' contexts: when it ends (the
	// cut-off at shutdown), the purges in flight stop short and are
	// answered. Nil: never.
	Context context.Context
	Health  *health.Checker
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Version string

	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxBodyBytes                           int
}

// Server serves edgepurge's HTTP API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	http      *fasthttp.Server
	metrics   fasthttp.RequestHandler
	spToken   [32]byte
	apiToken  [32]byte
	baseCtx   context.Context
	cancelCtx context.CancelFunc
	// draining is set by Drain: every answer then closes its connection.
	draining atomic.Bool
}

// New builds a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Log}
	// Tokens are compared as hashes, so the comparison takes the same time
	// whatever the length of the guess.
	s.spToken = sha256.Sum256([]byte(cfg.StatuspageToken))
	s.apiToken = sha256.Sum256([]byte(cfg.APIToken))
	// Purges run under a context of their own, never the fasthttp request
	// context, which is recycled once the handler returns.
	s.baseCtx, s.cancelCtx = context.WithCancel(cmp.Or(cfg.Context, context.Background()))
	// With tracing on, a scraper that asks for OpenMetrics gets it, and
	// with it the exemplars (the trace ids of sampled events); off, there
	// are none, and /metrics stays the text format it always was.
	s.metrics = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(cfg.Metrics.Registry,
		promhttp.HandlerOpts{EnableOpenMetrics: cfg.Pipeline.Tracer() != nil}))
	s.http = &fasthttp.Server{
		Handler:            s.recoverPanics(s.route),
		ErrorHandler:       s.transportError,
		Name:               "edgepurge",
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		MaxRequestBodySize: cfg.MaxBodyBytes,
		CloseOnShutdown:    true,
		// A connection's 4 KiB read and write buffers go back to the pool
		// between uses instead of staying with it while its request waits
		// on a CDN call: with 1,000 senders that is 8 MB less held.
		ReduceMemoryUsage:     true,
		NoDefaultDate:         false,
		NoDefaultServerHeader: true,
		// fasthttp's parse errors would otherwise quote the request, whose
		// path or headers can carry a token.
		SecureErrorLogMessage: true,
		// Multipart bodies would be parsed before any handler runs, that is
		// before authentication; no endpoint takes them.
		DisablePreParseMultipartForm: true,
		ExpectHandler:                s.expectContinue,
		Logger:                       slogPrinter{cfg.Log},
	}
	return s
}

// Handler returns the root handler, panic recovery included (for tests).
func (s *Server) Handler() fasthttp.RequestHandler { return s.http.Handler }

// Serve serves on ln until Shutdown. A connection whose body was refused
// with 413 drains a bounded amount of the rest before it closes (see
// lingerListener), so a client that writes its whole body first still
// reads its 413.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(lingerListener{ln}) }

// Drain makes every answer from now on close its connection, so that
// keep-alive clients open their next one elsewhere (to another instance,
// once readiness has failed) during the drain delay, instead of sending on
// an idle connection that Shutdown closes under them.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown stops accepting connections and waits for in-flight requests to
// be answered, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.ShutdownWithContext(ctx)
	s.cancelCtx()
	return err
}

// route dispatches by path. The set of paths is small and fixed, so a
// switch reads better than a router.
func (s *Server) route(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/v1/hooks/events":
		s.only(ctx, fasthttp.MethodPost, s.handleEvent)
	case strings.HasPrefix(path, statuspagePrefix):
		s.only(ctx, fasthttp.MethodPost, s.handleStatuspage)
	case path == "/v1/purge":
		s.only(ctx, fasthttp.MethodPost, s.handleManualPurge)
	case path == "/healthz":
		s.only(ctx, fasthttp.MethodGet, s.handleHealthz)
	case path == "/readyz":
		s.only(ctx, fasthttp.MethodGet, s.handleReadyz)
	case path == "/metrics":
		s.only(ctx, fasthttp.MethodGet, s.metrics)
	case path == "/v1/purges":
		s.only(ctx, fasthttp.MethodGet, s.handlePurges)
	case path == "/version":
		s.only(ctx, fasthttp.MethodGet, s.handleVersion)
	case path == "/v1/journal" || strings.HasPrefix(path, "/v1/journal/"):
		s.routeJournal(ctx, path)
	case path == "/v1/stats":
		s.only(ctx, fasthttp.MethodGet, s.handleStats)
	case path == "/v1/backends":
		s.only(ctx, fasthttp.MethodGet, s.handleBackends)
	case path == "/v1/pages" || strings.HasPrefix(path, "/v1/pages/"):
		s.routePages(ctx, path)
	case path == "/console" || strings.HasPrefix(path, "/console/"):
		s.only(ctx, fasthttp.MethodGet, s.handleConsole)
	default:
		// The path is not echoed: a misrouted one can carry a token.
		s.fail(ctx, fasthttp.StatusNotFound, "no such endpoint; the endpoints are "+endpoints)
	}
}

// endpoints lists the API for a 404's message.
const endpoints = "POST /v1/hooks/events, POST /v1/hooks/statuspage/{token}, POST /v1/purge, " +
	"GET /v1/purges, GET /v1/journal, GET /v1/journal/dead, POST /v1/journal/{id}/replay, " +
	"POST /v1/journal/dead/{id}/replay, POST /v1/journal/dead/replay, GET /v1/stats, GET /v1/backends, " +
	"GET|PUT /v1/pages, GET|PUT|DELETE /v1/pages/{page_id}, " +
	"GET /healthz, GET /readyz, GET /metrics, GET /version, GET /console"

// only answers 405 with Allow unless the method is m (HEAD goes with GET).
func (s *Server) only(ctx *fasthttp.RequestCtx, m string, h fasthttp.RequestHandler) {
	method := string(ctx.Method())
	if method == m || (m == fasthttp.MethodGet && method == fasthttp.MethodHead) {
		h(ctx)
		return
	}
	allow := m
	if m == fasthttp.MethodGet {
		allow = "GET, HEAD"
	}
	ctx.Response.Header.Set("Allow", allow)
	s.fail(ctx, fasthttp.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use %s", sanitize(method), allow))
}

// tokenMatches compares a presented token with a configured one's hash in
// constant time. An unconfigured token matches nothing.
func tokenMatches(want [32]byte, configured bool, got []byte) bool {
	if !configured {
		return false
	}
	h := sha256.Sum256(got)
	return subtle.ConstantTimeCompare(want[:], h[:]) == 1
}

// transportError answers what fasthttp could not even parse: a body over
// the limit, a timeout, a malformed request line.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	var status int
	var msg string
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, msg = fasthttp.StatusRequestEntityTooLarge, s.tooLarge()
		// The rest of the body is still coming: read it away before
		// closing, or the client may get a reset instead of this answer.
		markLinger(ctx)
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		status, msg = fasthttp.StatusRequestHeaderFieldsTooLarge, "request headers too large"
	case isTimeout(err):
		status, msg = fasthttp.StatusRequestTimeout, "request not received in time"
	default:
		status, msg = fasthttp.StatusBadRequest, "malformed HTTP request"
	}
	s.log.Warn("bad request", "status", status, "remote", ctx.RemoteIP().String(), "err", err)
	writeJSON(ctx, status, errorBody{Error: msg})
	ctx.SetConnectionClose()
}

// expectContinue answers "Expect: 100-continue": a declared body over the
// limit is refused with 413 before the client sends it. fasthttp closes the
// connection after it; a client that did not wait for 100 Continue (curl
// sends after a second) has its body drained first, as in transportError.
func (s *Server) expectContinue(ctx *fasthttp.RequestCtx) int {
	if n := ctx.Request.Header.ContentLength(); s.cfg.MaxBodyBytes > 0 && n > s.cfg.MaxBodyBytes {
		writeJSON(ctx, fasthttp.StatusRequestEntityTooLarge, errorBody{Error: s.tooLarge()})
		markLinger(ctx)
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusContinue
}

func (s *Server) tooLarge() string {
	return fmt.Sprintf("body too large: the limit is %d bytes", s.cfg.MaxBodyBytes)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, fasthttp.ErrTimeout)
}

// slogPrinter adapts slog to fasthttp's Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.log.Debug("fasthttp", "msg", fmt.Sprintf(format, args...))
}
