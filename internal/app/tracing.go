package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"

	"github.com/edgepurge/edgepurge/internal/admin"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// newTracing sets tracing up from the config's tracing section and the
// OTEL_* variables (nil, off, unless an endpoint is set), and instruments
// the Redis client with go-redis' own instrumentation. The Redis spans are
// children of an event's only: the journal's polls, the probes and the
// rate budget's calls start no trace. Commands are not recorded as text
// (db.statement): a key can name a page that is not public yet.
func newTracing(cfg *config.Config, build Build) (*tracing.Tracer, error) {
	return tracing.New(context.Background(), tracing.Config{
		Endpoint: cfg.Tracing.Endpoint, Version: build.Version, Instance: cfg.Tracing.Instance,
	})
}

// instrumentRedis adds go-redis' tracing hooks to the App's client, when
// tracing is on.
func (a *App) instrumentRedis() error {
	if a.tracer == nil {
		return nil
	}
	err := redisotel.InstrumentTracing(a.redis,
		redisotel.WithTracerProvider(a.tracer.ChildProvider()),
		redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false), redisotel.WithDialFilter(true))
	if err != nil {
		return fmt.Errorf("tracing: instrument redis: %w", err)
	}
	return nil
}

// closeTracing exports the spans still buffered, within a few seconds.
func (a *App) closeTracing() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tracer.Shutdown(ctx); err != nil {
		a.log.Warn("could not export the last spans", "err", err)
	}
}

// startAdmin serves /debug/pprof/ on server.admin_listen (unless off)
// until the returned stop is called. A listener that cannot be opened is
// a warning, not a failure: profiling is a diagnostic aid, and purging
// must not wait on it (two instances on one host share the default port).
func (a *App) startAdmin() (stop func()) {
	addr := a.cfg.Server.AdminListen
	if addr == "" || addr == config.AdminOff {
		return func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.log.Warn("admin listener not started: /debug/pprof/ is not served (set server.admin_listen or EDGEPURGE_ADMIN_LISTEN to a free port, or off)",
			"addr", addr, "err", err)
		return func() {}
	}
	srv := &http.Server{Handler: admin.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("admin listener stopped", "err", err)
		}
	}()
	a.log.Info("admin listening: /debug/pprof/", "addr", ln.Addr().String())
	return func() {
		_ = srv.Close()
		<-done
	}
}

// otelLogEvery is the least time between two lines about failed exports.
const otelLogEvery = 30 * time.Second

// OTelErrorHandler writes the OpenTelemetry SDK's errors (an export that
// failed: the collector is down) to the process log, at most one line
// every 30 s, counting the ones left out: a collector outage must not
// flood the log, nor break its JSON lines with the SDK's own.
type OTelErrorHandler struct {
	log  *slog.Logger
	mu   sync.Mutex
	next time.Time
	left int
}

// NewOTelErrorHandler returns the SDK's error handler (otel.SetErrorHandler)
// writing to log.
func NewOTelErrorHandler(log *slog.Logger) *OTelErrorHandler { return &OTelErrorHandler{log: log} }

// Handle implements otel.ErrorHandler.
func (h *OTelErrorHandler) Handle(err error) {
	h.mu.Lock()
	now, left := time.Now(), h.left
	write := !now.Before(h.next)
	if write {
		h.next, h.left = now.Add(otelLogEvery), 0
	} else {
		h.left++
	}
	h.mu.Unlock()
	if write {
		h.log.Warn("tracing: spans not exported", "err", err, "left_out", left)
	}
}
