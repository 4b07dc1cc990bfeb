package app

import (
	"context"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/canary"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/server"
)

// ops are the operability parts: the audit trail, the canary and their
// metrics.
type ops struct {
	metrics *metrics.Ops
	audit   *audit.Log     // nil when audit.disabled
	canary  *canary.Canary // nil when no canary is configured, or dry run
}

// newAudit builds the audit trail.
func (a *App) newAudit() {
	cfg := a.cfg
	if !cfg.Audit.Disabled {
		a.ops.audit = audit.New(a.redis, audit.Config{
			Stream: cfg.Audit.Stream, MaxLen: cfg.Audit.MaxLen,
			Buffer: cfg.Audit.Buffer, Memory: cfg.Audit.Memory,
			OnDrop:     a.ops.metrics.AuditDropped.Inc,
			OnFallback: a.ops.metrics.AuditFallbacks.Inc,
			Log:        a.log,
		})
	}
}

// newCanary builds the canary; the Pipeline must exist.
func (a *App) newCanary() {
	cfg := a.cfg
	if cfg.Canary.Enabled() && !cfg.DryRun {
		c := canary.Config{
			URL: cfg.Canary.URL, Tag: cfg.Canary.Tag, Zone: cfg.Canary.Zone,
			Interval: cfg.Canary.Interval, MaxAge: cfg.Canary.MaxAge,
			// The chain has its own deadline; this one only catches a
			// run that outlives it.
			Timeout:  cfg.Server.PurgeTimeout + time.Second,
			Pipeline: a.Pipeline,
			Observe:  a.ops.metrics.ObserveCanary,
			Log:      a.log,
		}
		a.ops.canary = canary.New(c)
	}
}

// purgeLister is the server's PurgeLister: a nil interface, not a typed
// nil, when the audit trail is off.
func (a *App) purgeLister() server.PurgeLister {
	if a.ops.audit == nil {
		return nil
	}
	return a.ops.audit
}

// opsProbes are the readiness checks of the operability parts.
func (a *App) opsProbes() []health.Probe {
	if a.ops.canary == nil {
		return nil
	}
	return []health.Probe{a.ops.canary.Probe()}
}

// startOps starts the audit writer; the returned stop writes what is still
// queued and returns once the writer is done.
func (a *App) startOps() (stop func()) {
	if a.ops.audit == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.ops.audit.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
