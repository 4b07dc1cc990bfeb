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

	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/plan"
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
	// Purger does the purges (a *fanout.Fanout).
	Purger fanout.Runner
	// Observer may be nil.
	Observer Observer
	// Timeout bounds one round of checks; default DefaultTimeout.
	Timeout time.Duration
}

// Checker purges through its Purger and, for plans whose page asks for it
// (plan.Plan.VerifyEdge), verifies the purge at the edge. It is safe for
// concurrent use.
type Checker struct {
	purger   fanout.Runner
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
func (v *Checker) RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *fanout.Answer) {
	v.purger.RunOn(ctx, backends, id, p, a)
}

var _ fanout.Runner = (*Checker)(nil)

// Run purges *p and, when p asks for verification and every backend
// accepted the purge, checks every purged URL at the edge. URLs found stale
// are purged again once (on every CDN, in order) and checked again; if any
// is still stale, the answer's status is fanout.StatusStale, which is not
// OK, so the caller retries.
//
// A plan that asks for no check goes straight to the Purger: the check's
// locals live in frames of their own (runChecked, verify), not in this one,
// which every purge's goroutine holds while it waits on the backends.
func (v *Checker) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *fanout.Answer) {
	if dryRun || p.VerifyEdge == "" || len(p.URLs) == 0 {
		v.purger.Run(ctx, id, p, dryRun, a)
		return
	}
	v.runChecked(ctx, id, p, a)
}

// runChecked is Run for a plan checked at the edge: a snapshot of the
// validators, the purge, then the check (verify).
func (v *Checker) runChecked(ctx context.Context, id string, p *plan.Plan, a *fanout.Answer) {
	start := time.Now()
	before := v.snapshot(ctx, p.VerifyEdge, p.URLs)
	purgedAt := time.Now()
	v.purger.Run(ctx, id, p, false, a)
	if a.Status != fanout.StatusPurged {
		// The caller retries anyway; a check now would only confirm it.
		return
	}
	v.verify(ctx, id, p, a, before, purgedAt)
	a.DurationMS = float64(time.Since(start).Microseconds()) / 1000
}

// verify checks p's purged URLs at the edge, purges the stale ones again
// and checks those again, and puts the checks and the second purge's
// results in a.
func (v *Checker) verify(ctx context.Context, id string, p *plan.Plan, a *fanout.Answer, before map[string]validators, purgedAt time.Time) {
	checks := v.checkAll(ctx, p.VerifyEdge, p.URLs, before, purgedAt)

	if stale := urlsWith(checks, fanout.CheckStale); len(stale) > 0 {
		again := plan.Plan{Page: p.Page, Zone: p.Zone, URLs: stale, Tags: []string{}, Keys: []string{}, CDNOrder: p.CDNOrder}
		repurgedAt := time.Now()
		ra := new(fanout.Answer)
		v.purger.Run(ctx, id, &again, false, ra)
		a.Repurge = cdnResults(ra.Results)
		rechecks := v.checkAll(ctx, p.VerifyEdge, stale, before, repurgedAt)
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
		if c.Result == fanout.CheckStale {
			a.Status = fanout.StatusStale
		}
	}
	a.Verification = checks
}

func urlsWith(checks []fanout.URLCheck, result string) []string {
	var out []string
	for _, c := range checks {
		if c.Result == result {
			out = append(out, c.URL)
		}
	}
	return out
}

// cdnResults drops the backends a re-purge of URLs did not involve (Redis).
func cdnResults(results []fanout.Result) []fanout.Result {
	var out []fanout.Result
	for _, r := range results {
		if r.Items > 0 || r.Calls > 0 || r.Status != fanout.BackendOK {
			out = append(out, r)
		}
	}
	return out
}
