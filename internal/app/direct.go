package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/edgecheck"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/server"
)

// SourceDirect is the audit source of a break-glass purge made in-process
// by the CLI (edgepurge purge --direct).
const SourceDirect = "direct"

// Direct purges in-process from the config, with no server: the
// break-glass path for when edgepurge itself is down. It is built by New,
// so it has exactly the service's planner, purgers, coalescing and shared
// rate limits (through Redis when it answers); the HTTP server New also
// builds is never started.
type Direct struct {
	app    *App
	purger server.Purger
}

// NewDirect builds a Direct from cfg.
func NewDirect(cfg *config.Config, log *slog.Logger, build Build) (*Direct, error) {
	a, err := New(cfg, log, build)
	if err != nil {
		return nil, err
	}
	return &Direct{app: a, purger: edgecheck.New(edgecheck.Config{Purger: a.Fanout, Observer: a.Metrics})}, nil
}

// Purge plans ev and purges it, like the server's data path, and records
// it in the audit trail. The error is a planning error (nothing was purged).
func (d *Direct) Purge(ctx context.Context, ev event.Event, dryRun bool) (fanout.Answer, error) {
	p, err := d.app.Planner.Plan(ctx, ev)
	if err != nil {
		return fanout.Answer{}, fmt.Errorf("plan: %w", err)
	}
	if p.Empty() {
		return fanout.Answer{}, fmt.Errorf("plan: nothing to purge for this request")
	}
	a := d.purger.Run(ctx, ev.ID, p, dryRun || d.app.cfg.DryRun)
	if d.app.ops.audit != nil {
		d.app.ops.audit.Record(audit.FromAnswer(SourceDirect, a, 0, time.Now()))
	}
	return a, nil
}

// directFlushTimeout bounds the audit write at Close, so a dead Redis
// delays the CLI by at most this much.
const directFlushTimeout = 3 * time.Second

// Close writes the audit records and releases Redis.
func (d *Direct) Close() error {
	if d.app.ops.audit != nil {
		ctx, cancel := context.WithTimeout(context.Background(), directFlushTimeout)
		d.app.ops.audit.Flush(ctx)
		cancel()
	}
	return d.app.Close()
}
