// Package pipeline is the life of one purge, declared once and used by
// every path that purges: the HTTP handlers, break-glass
// `edgepurge purge --direct`, the journal's re-driver and the canary.
//
// An event (Handle) goes through, top to bottom, under one deadline:
//
//	duplicate check → plan → purge (chain, behind the edge check)
//	  → settle: purged: mark the id purged (200)
//	            unfinished: journal it (202) or refuse it (502, 503)
//	            incomplete plan: never 2xx (503), never marked
//	  → audit, metrics, log
//
// A plan made elsewhere (Run: the canary's, a journal entry's) skips the
// duplicate check and the planning and is audited under its source.
package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// Planner computes what an event purges (package plan).
type Planner interface {
	Plan(ctx context.Context, ev event.Event) (plan.Plan, error)
}

// Deduper remembers the event ids already purged (package dedupe).
type Deduper interface {
	Seen(ctx context.Context, id string) (bool, error)
	MarkPurged(ctx context.Context, id string) (bool, error)
}

// Journaler records the unfinished part of a purge durably, for the
// background re-driver (package journal).
type Journaler interface {
	// Journal writes a's unfinished part. ok is false when a has none that
	// may be journaled (a backend refused for good); err says the write
	// failed.
	// a is read only.
	Journal(ctx context.Context, source string, a *chain.Answer) (id string, ok bool, err error)
}

// Recorder keeps the audit trail (package audit). Record must not block:
// it is called on the request's path.
type Recorder interface {
	Record(r audit.Record)
}

// Historian keeps the process's recent history of purges (package
// history), for the console's charts. Observe must not block.
type Historian interface {
	// Observe records one purge that ended with status; lag is its
	// freshness lag, negative when it has none.
	Observe(status string, lag time.Duration)
}

// Config is what a Pipeline needs.
type Config struct {
	Planner Planner
	// Purger runs plans on the backends: a *chain.Chain, usually behind
	// the edge check (package edgecheck).
	Purger chain.Runner
	// Dedupe answers a delivery already purged as "duplicate"; nil turns
	// that off.
	Dedupe Deduper
	// Journal records the unfinished part of a purge for re-drive
	// (answered 202); nil answers such a purge 502 or 503.
	Journal Journaler
	// Audit may be nil.
	Audit Recorder
	// History may be nil.
	History Historian
	// DryRun makes every event a dry run.
	DryRun bool
	// Metrics and Log may be nil.
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Deadline bounds everything Handle does for one event, every phase
	// included; 0 means no bound of the pipeline's own.
	Deadline time.Duration
	// PurgeTimeout, when set, also bounds the purge step: the chain's
	// own timeout (server.purge_timeout), so that the purge's one context
	// carries both bounds.
	PurgeTimeout time.Duration
	// Tracer starts the traces of the entry points that go through the
	// pipeline (the HTTP handlers, the journal's re-drives); nil is
	// tracing off.
	Tracer *tracing.Tracer
	// KeysBackend names the Redis side's results ("redis"): when it fails
	// and nothing can record the CDN steps left after it, they are purged
	// at once (see settle).
	KeysBackend string
}

// Pipeline runs purges. It is safe for concurrent use.
type Pipeline struct {
	cfg Config
	log *slog.Logger
}

// New returns a Pipeline.
func New(cfg Config) *Pipeline {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New("", "")
	}
	return &Pipeline{cfg: cfg, log: cfg.Log}
}

// Tracer is the tracer of the pipeline's entry points; nil when tracing
// is off.
func (p *Pipeline) Tracer() *tracing.Tracer {
	if p == nil {
		return nil
	}
	return p.cfg.Tracer
}

// Run purges a plan made elsewhere (the canary's, a journal entry's) on
// the named backends (all of them when backends is empty), never as a dry
// run, and records it in the audit trail under source.
func (p *Pipeline) Run(ctx context.Context, source, id string, pl plan.Plan, backends []string) chain.Answer {
	a := new(chain.Answer)
	if len(backends) == 0 {
		p.cfg.Purger.Run(ctx, id, &pl, false, a)
	} else {
		p.cfg.Purger.RunOn(ctx, backends, id, &pl, a)
	}
	p.notePanics("", id, a)
	p.audit(source, a, 0)
	if p.cfg.History != nil {
		p.cfg.History.Observe(a.Status, -1)
	}
	return *a
}
