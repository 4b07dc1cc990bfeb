package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// Direct purges in-process from the config, with no server: the
// break-glass path for when edgepurge itself is down. It is built by New,
// so it has exactly the service's planner, purgers, coalescing and shared
// rate limits (through Redis when it answers) and the same pipeline, less
// the journal: the person at the terminal sees a failure and retries. The
// HTTP server New also builds is never started.
type Direct struct {
	app  *App
	pipe *pipeline.Pipeline
}

// NewDirect builds a Direct from cfg.
func NewDirect(cfg *config.Config, log *slog.Logger, build Build) (*Direct, error) {
	a, err := New(cfg, log, build)
	if err != nil {
		return nil, err
	}
	c := a.pipelineConfig()
	// The CLI prints the answer: the pipeline's own log lines would only
	// repeat it.
	c.Log = slog.New(slog.DiscardHandler)
	return &Direct{app: a, pipe: pipeline.New(c)}, nil
}

// Purge takes ev through the pipeline as a direct purge (audited as source
// "direct"). The error says the purge was refused before anything was
// purged (a planning error).
func (d *Direct) Purge(ctx context.Context, ev event.Event, dryRun bool) (chain.Answer, error) {
	ev.Source = event.SourceDirect
	o := d.pipe.Handle(ctx, &pipeline.Request{Event: ev, DryRun: dryRun})
	if o.Refused() {
		return chain.Answer{}, errors.New("plan: " + o.Refusal)
	}
	return o.Answer, nil
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
