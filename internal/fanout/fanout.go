// Package fanout runs a plan against every backend at once (the CDN purgers
// in order, Redis beside them) under one deadline, and folds what they did
// into an Answer.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
)

// KeyInvalidator is the Redis side of a purge (package cache).
type KeyInvalidator interface {
	Name() string
	Invalidate(ctx context.Context, keys, sets []string) (cache.Result, error)
}

// Observer is told about every backend's result; metrics implement it.
type Observer interface {
	ObserveBackend(backend, status string, d time.Duration)
}

// Fanout purges plans. It is safe for concurrent use.
type Fanout struct {
	cdn      []purge.Purger
	keys     KeyInvalidator
	timeout  time.Duration
	observer Observer
}

// Config configures a Fanout.
type Config struct {
	// CDN purgers run one after another, in this order (inner caches first,
	// so an outer cache cannot re-fetch stale content from an inner one).
	CDN []purge.Purger
	// Keys is the Redis side; nil means none.
	Keys KeyInvalidator
	// Timeout is the deadline of one plan's whole purge.
	Timeout time.Duration
	// Observer may be nil.
	Observer Observer
}

// New returns a Fanout.
func New(cfg Config) *Fanout {
	return &Fanout{cdn: cfg.CDN, keys: cfg.Keys, timeout: cfg.Timeout, observer: cfg.Observer}
}

// Run purges p and answers for the event id. It returns when every backend
// finished or the deadline passed. With dryRun, nothing is sent anywhere.
func (f *Fanout) Run(ctx context.Context, id string, p plan.Plan, dryRun bool) Answer {
	start := time.Now()
	a := Answer{ID: id, Plan: p}
	if dryRun {
		a.Results = f.dryRun(p)
		a.Status = StatusDryRun
		a.DurationMS = millis(time.Since(start))
		return a
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}

	results := make([]Result, len(f.cdn), len(f.cdn)+1)
	var wg sync.WaitGroup
	if f.keys != nil {
		results = append(results, Result{})
		wg.Go(func() { results[len(f.cdn)] = f.invalidate(ctx, p) })
	}
	for i, c := range f.cdn {
		results[i] = f.purgeCDN(ctx, c, p.CDN())
	}
	wg.Wait()

	a.Results = results
	a.Status = overall(results)
	a.DurationMS = millis(time.Since(start))
	return a
}

func (f *Fanout) dryRun(p plan.Plan) []Result {
	var out []Result
	for _, c := range f.cdn {
		out = append(out, Result{Backend: c.Name(), Status: BackendDryRun, Items: p.CDN().Items()})
	}
	if f.keys != nil {
		out = append(out, Result{Backend: f.keys.Name(), Status: BackendDryRun, Items: len(p.Keys) + len(p.KeySets)})
	}
	return out
}

func (f *Fanout) purgeCDN(ctx context.Context, c purge.Purger, req purge.Request) Result {
	r := Result{Backend: c.Name(), Status: BackendOK}
	if req.Empty() {
		return r
	}
	start := time.Now()
	res, err := c.Purge(ctx, req)
	d := time.Since(start)
	r.Items, r.Calls, r.DurationMS = res.Items, res.Calls, millis(d)
	if err != nil {
		r.Status = BackendFailed
		r.Error = err.Error()
		if pe := purge.AsError(err); pe != nil {
			r.ErrorCodes = pe.Codes
			r.Retryable = pe.Retryable
		} else {
			r.Retryable = errors.Is(err, context.DeadlineExceeded)
		}
	}
	f.observe(r.Backend, r.Status, d)
	return r
}

func (f *Fanout) invalidate(ctx context.Context, p plan.Plan) Result {
	r := Result{Backend: f.keys.Name(), Status: BackendOK}
	if len(p.Keys) == 0 && len(p.KeySets) == 0 {
		return r
	}
	start := time.Now()
	res, err := f.keys.Invalidate(ctx, p.Keys, p.KeySets)
	d := time.Since(start)
	r.DurationMS = millis(d)
	if err != nil {
		r.Status = BackendFailed
		r.Error = fmt.Sprintf("invalidate redis keys: %v", err)
		r.Retryable = true
	} else {
		r.Items = res.Keys + res.Sets
	}
	f.observe(r.Backend, r.Status, d)
	return r
}

func (f *Fanout) observe(backend, status string, d time.Duration) {
	if f.observer != nil {
		f.observer.ObserveBackend(backend, status, d)
	}
}
