// Package edgecheck checks, after a purge, that a page's edge no longer serves
// what was purged: each purged URL is fetched through the edge the page's
// config names, judged verified or stale from the answer's Age, cache-status
// and validators, and purged once more if stale (the tiered-cache race in
// which an edge re-caches an old copy from a parent not yet purged).
package edgecheck

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// DefaultTimeout bounds one round of checks (every URL of a plan).
const DefaultTimeout = 3 * time.Second

// maxConcurrentChecks bounds the fetches in flight to one edge.
const maxConcurrentChecks = 8

// Observer is told each URL's final result; metrics implement it.
type Observer interface {
	ObserveEdgeCheck(result string)
}

// Config configures a Checker.
type Config struct {
	// Purger does the purges (a *chain.Chain).
	Purger chain.Runner
	// Observer may be nil.
	Observer Observer
	// Timeout bounds one round of checks; default DefaultTimeout.
	Timeout time.Duration
}

// Checker purges through its Purger and, for plans whose page asks for it
// (plan.Plan.EdgeCheck), checks the purge at the edge. It is safe for
// concurrent use.
type Checker struct {
	purger   chain.Runner
	observer Observer
	timeout  time.Duration
	edges    *edgeClients
}

// New returns a Checker.
func New(cfg Config) *Checker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Checker{purger: cfg.Purger, observer: cfg.Observer, timeout: cfg.Timeout, edges: newEdgeClients(cfg.Timeout)}
}

// RunOn is the Purger's RunOn: a re-drive of what failed is not checked
// at the edge.
func (v *Checker) RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *chain.Answer) {
	v.purger.RunOn(ctx, backends, id, p, a)
}

var _ chain.Runner = (*Checker)(nil)

// Run purges *p and, when p asks for an edge check and every backend
// accepted the purge, checks every purged URL at the edge. URLs found stale
// are purged again once (on every CDN, in order) and checked again; if any
// is still stale, the answer's status is chain.StatusStale, which is not
// OK, so the caller retries.
func (v *Checker) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *chain.Answer) {
	if dryRun || p.EdgeCheck == "" || len(p.URLs) == 0 {
		v.purger.Run(ctx, id, p, dryRun, a)
		return
	}
	v.runChecked(ctx, id, p, a)
}

// runChecked is Run for a plan checked at the edge: a snapshot of the
// validators, the purge, then the check (checkAfter).
func (v *Checker) runChecked(ctx context.Context, id string, p *plan.Plan, a *chain.Answer) {
	start := time.Now()
	sctx, span := tracing.Start(ctx, "edge check before")
	before := v.snapshot(sctx, p.EdgeCheck, p.URLs)
	span.End()
	purgedAt := time.Now()
	v.purger.Run(ctx, id, p, false, a)
	if a.Status != chain.StatusPurged {
		// The caller retries anyway; a check now would only confirm it.
		return
	}
	v.checkAfter(ctx, id, p, a, before, purgedAt)
	a.DurationMS = float64(time.Since(start).Microseconds()) / 1000
}

// checkAfter checks p's purged URLs at the edge, purges the stale ones again
// and checks those again, and puts the checks and the second purge's
// results in a.
func (v *Checker) checkAfter(ctx context.Context, id string, p *plan.Plan, a *chain.Answer, before map[string]validators, purgedAt time.Time) {
	ctx, span := tracing.Start(ctx, "edge check")
	defer span.End()
	if span.IsRecording() {
		defer func() {
			span.SetAttributes(attribute.Int("edgepurge.urls", len(p.URLs)), attribute.Int("edgepurge.repurged", len(a.Repurge)),
				attribute.String("edgepurge.status", a.Status))
		}()
	}
	checks := v.checkAll(ctx, p.EdgeCheck, p.URLs, before, purgedAt)

	if stale := urlsWith(checks, chain.CheckStale); len(stale) > 0 {
		again := plan.Plan{Page: p.Page, Zone: p.Zone, URLs: stale, Tags: []string{}, Keys: []string{}, CDNOrder: p.CDNOrder}
		repurgedAt := time.Now()
		ra := new(chain.Answer)
		v.purger.Run(ctx, id, &again, false, ra)
		a.Repurge = cdnResults(ra.Results)
		rechecks := v.checkAll(ctx, p.EdgeCheck, stale, before, repurgedAt)
		for i, c := range checks {
			if j := slices.Index(stale, c.URL); j >= 0 {
				checks[i] = rechecks[j]
				checks[i].Repurged = true
			}
		}
	}
	for _, c := range checks {
		if v.observer != nil {
			v.observer.ObserveEdgeCheck(c.Result)
		}
		if c.Result == chain.CheckStale {
			a.Status = chain.StatusStale
		}
	}
	a.EdgeChecks = checks
}

func urlsWith(checks []chain.URLCheck, result string) []string {
	var out []string
	for _, c := range checks {
		if c.Result == result {
			out = append(out, c.URL)
		}
	}
	return out
}

// cdnResults drops the backends a re-purge of URLs did not involve (Redis).
func cdnResults(results []chain.BackendResult) []chain.BackendResult {
	var out []chain.BackendResult
	for _, r := range results {
		if r.Items > 0 || r.Calls > 0 || r.Status != chain.BackendOK {
			out = append(out, r)
		}
	}
	return out
}
