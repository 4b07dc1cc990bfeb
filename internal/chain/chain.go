// Package chain runs a plan on its backends under one deadline, one step
// after the other in the order a cache refills (Redis, the origin's cache,
// first; then the CDNs from the inner to the outer), and folds what they
// did into an Answer.
package chain

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/tracing"
	"github.com/edgepurge/edgepurge/purge"
)

// KeyInvalidator is the Redis side of a purge (package cache).
type KeyInvalidator interface {
	Name() string
	Invalidate(ctx context.Context, keys, sets []string) (cache.Invalidation, error)
}

// Runner runs plans on the backends and answers. *Chain is one; the edge
// check (package edgecheck) wraps one. Everything above it reaches the
// backends through package pipeline.
//
// The plan and the answer go by pointer, the answer into one the caller
// owns: the pipeline makes the plan in place in its answer, and every
// layer (the edge check, the chain) fills in the same answer rather
// than copy a large struct on the way down and back.
type Runner interface {
	// Run purges *p on every backend and puts the answer in *a, all of
	// which it overwrites; with dryRun, nothing is sent. p may point to
	// a.Plan: a plan made in place in its answer is not copied.
	Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *Answer)
	// RunOn purges *p on the named backends only (a re-drive of what
	// failed), never as a dry run, and puts the answer in *a, as Run does.
	RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *Answer)
}

var _ Runner = (*Chain)(nil)

// Observer is told about every backend's result; metrics implement it.
type Observer interface {
	ObserveBackend(backend, status string, d time.Duration)
}

// TracedObserver is an Observer that also takes the trace id of a sampled
// event's result, for an exemplar: metrics implement it.
type TracedObserver interface {
	ObserveBackendTraced(backend, status string, d time.Duration, traceID string)
}

// Chain purges plans. It is safe for concurrent use.
type Chain struct {
	cdn      []purge.Purger
	keys     KeyInvalidator
	timeout  time.Duration
	observer Observer
	onPanic  func(backend string, value any, stack []byte)
}

// Config configures a Chain.
type Config struct {
	// CDN purgers run one after another, in this order (inner caches first,
	// so an outer cache cannot re-fetch stale content from an inner one),
	// after Keys.
	CDN []purge.Purger
	// Keys is the Redis side, the origin's cache: purged first; nil means
	// none.
	Keys KeyInvalidator
	// Timeout is the deadline of one plan's whole purge.
	Timeout time.Duration
	// Observer may be nil.
	Observer Observer
	// OnPanic, when set, is told about a panic recovered in a backend, with
	// its stack (for the log).
	OnPanic func(backend string, value any, stack []byte)
}

// PanicError is the error of a backend result whose backend panicked. The
// panic itself is never put in the answer.
const PanicError = "internal error in backend"

// New returns a Chain.
func New(cfg Config) *Chain {
	return &Chain{cdn: cfg.CDN, keys: cfg.Keys, timeout: cfg.Timeout, observer: cfg.Observer, onPanic: cfg.OnPanic}
}

// Run purges *p and puts the answer for the event id in *a. It returns
// when every backend finished or the deadline passed. With dryRun, nothing
// is sent anywhere.
func (f *Chain) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *Answer) {
	start := time.Now()
	ctx, span := tracing.Start(ctx, "purge")
	defer span.End()
	a.begin(id, p)
	if dryRun {
		a.Results, a.Status = f.dryRun(&a.Plan), StatusDryRun
		a.DurationMS = millis(time.Since(start))
		return
	}
	if dl, ok := ctx.Deadline(); f.timeout > 0 && (!ok || time.Until(dl) > f.timeout) {
		// (A caller's deadline sooner than ours bounds the run already.)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	f.runSteps(ctx, a)
	a.DurationMS = millis(time.Since(start))
}

// runSteps runs a.Plan on the backends, one step after the other, and puts
// their results and the overall status in a.
//
// The chain, in the order a cache refills: the origin-side cache (Redis)
// first, then the CDNs from the inner to the outer. A step starts only
// after the one before it succeeded; once one failed, the rest are skipped
// (left to the journal, which re-drives the chain from there, in order),
// so that no outer cache refetches a copy an inner one, or the origin's
// Redis, still holds.
func (f *Chain) runSteps(ctx context.Context, a *Answer) {
	p := &a.Plan
	cdn := f.ordered(p.CDNOrder)
	// Each step's result is made in place, in results.
	results := make([]BackendResult, len(cdn), len(cdn)+1)
	var stoppedAt string
	if f.keys != nil {
		results = results[:len(cdn)+1]
		r := &results[len(cdn)]
		f.invalidate(ctx, p, r)
		if r.Status == BackendFailed {
			stoppedAt = r.Backend
		}
	}
	for i, c := range cdn {
		if stoppedAt != "" {
			results[i] = BackendResult{
				Backend: c.Name(), Status: BackendSkipped, Retryable: true,
				Error: "not run: " + stoppedAt + " failed first, and this cache would refill from it",
			}
			continue
		}
		f.purgeCDN(ctx, c, a.ID, p, &results[i])
		if results[i].Status == BackendFailed {
			stoppedAt = results[i].Backend
		}
	}
	a.Results = results
	a.Status = overall(results)
}

// begin readies a for a run of *p for the event id: a fresh answer with
// the plan (p may be &a.Plan: the literal is built before a is written).
func (a *Answer) begin(id string, p *plan.Plan) {
	*a = Answer{ID: id, Plan: *p}
}

// ordered is the CDN purgers in the plan's order: the purgers it names
// first, in its order, then the others in the configured order. An empty
// order is the configured one.
func (f *Chain) ordered(order []string) []purge.Purger {
	if len(order) == 0 {
		return f.cdn
	}
	out := make([]purge.Purger, 0, len(f.cdn))
	for _, name := range order {
		for _, c := range f.cdn {
			if c.Name() == name && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	for _, c := range f.cdn {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (f *Chain) dryRun(p *plan.Plan) []BackendResult {
	var out []BackendResult
	for _, c := range f.ordered(p.CDNOrder) {
		out = append(out, BackendResult{Backend: c.Name(), Status: BackendDryRun, Items: p.CDN().Items()})
	}
	if f.keys != nil {
		out = append(out, BackendResult{Backend: f.keys.Name(), Status: BackendDryRun, Items: len(p.Keys) + len(p.KeySets)})
	}
	return out
}

// recoverBackend turns a panic in a backend into a failed result: a panic
// in the Redis goroutine would otherwise kill the process, and one in a CDN
// purger would lose the other backends' results.
func (f *Chain) recoverBackend(ctx context.Context, backend string, start time.Time, r *BackendResult) {
	p := recover()
	if p == nil {
		return
	}
	d := time.Since(start)
	*r = BackendResult{Backend: backend, Status: BackendFailed, Error: PanicError, DurationMS: millis(d)}
	if f.onPanic != nil {
		f.onPanic(backend, p, debug.Stack())
	}
	f.observe(ctx, backend, BackendFailed, d)
}

// startStep starts the span of one step of the chain; endStep ends it
// with the step's result.
func startStep(ctx context.Context, backend string) (context.Context, trace.Span) {
	if parent := trace.SpanFromContext(ctx); !parent.IsRecording() {
		return ctx, parent // and the name is not built: no allocation
	}
	return tracing.Start(ctx, "purge "+backend)
}

func endStep(span trace.Span, r *BackendResult) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String("edgepurge.backend", r.Backend), attribute.String("edgepurge.status", r.Status),
			attribute.Int("edgepurge.items", r.Items), attribute.Int("edgepurge.calls", r.Calls))
		if r.Status == BackendFailed {
			// The answer's error: never a secret (the answer carries it).
			span.SetStatus(codes.Error, r.Error)
		}
	}
	span.End()
}

// purgeCDN runs p's CDN part on c and puts the result in *r.
func (f *Chain) purgeCDN(ctx context.Context, c purge.Purger, id string, p *plan.Plan, r *BackendResult) {
	ctx, span := startStep(ctx, c.Name())
	defer endStep(span, r)
	defer f.recoverBackend(ctx, c.Name(), time.Now(), r)
	*r = BackendResult{Backend: c.Name(), Status: BackendOK}
	req := p.CDN()
	if req.Empty() {
		return
	}
	// The event and the step, the same on every re-drive (which runs
	// with the event's id): an asynchronous CDN finds by it what an
	// earlier attempt started.
	req.Ref = id + "/" + c.Name()
	start := time.Now()
	var res purge.Result
	var nodes []purge.NodeResult
	var err error
	if np, ok := c.(purge.NodePurger); ok {
		res, nodes, err = np.PurgeNodes(ctx, req)
	} else {
		res, err = c.Purge(ctx, req)
	}
	d := time.Since(start)
	r.Items, r.Calls, r.DurationMS = res.Items, res.Calls, millis(d)
	if res.Escalation != "" {
		r.PurgedBy, r.Escalation = "cover", res.Escalation
	}
	r.Nodes = nodeResults(nodes)
	if err != nil {
		r.Status = BackendFailed
		r.Error = err.Error()
		if pe := purge.AsError(err); pe != nil {
			r.ErrorCodes = pe.Codes
			r.Retryable = pe.Retryable
			r.Unsent = pe.Unsent
		} else {
			r.Retryable = errors.Is(err, context.DeadlineExceeded)
		}
	}
	f.observe(ctx, r.Backend, r.Status, d)
}

// nodeResults turns a purger's per-node detail into the answer's.
func nodeResults(nodes []purge.NodeResult) []NodeResult {
	if len(nodes) == 0 {
		return nil
	}
	out := make([]NodeResult, len(nodes))
	for i, n := range nodes {
		out[i] = NodeResult{Node: n.Node, Status: BackendOK, Items: n.Items, Calls: n.Calls, DurationMS: millis(n.Duration)}
		if n.Err != nil {
			out[i].Status = BackendFailed
			out[i].Error = n.Err.Error()
		}
	}
	return out
}

// invalidate runs p's Redis part and puts the result in *r.
func (f *Chain) invalidate(ctx context.Context, p *plan.Plan, r *BackendResult) {
	ctx, span := startStep(ctx, f.keys.Name())
	defer endStep(span, r)
	defer f.recoverBackend(ctx, f.keys.Name(), time.Now(), r)
	*r = BackendResult{Backend: f.keys.Name(), Status: BackendOK}
	if len(p.Keys) == 0 && len(p.KeySets) == 0 {
		return
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
	f.observe(ctx, r.Backend, r.Status, d)
}

// observe tells the observer of a backend's result, with the event's
// trace id when it is sampled (an exemplar).
func (f *Chain) observe(ctx context.Context, backend, status string, d time.Duration) {
	if f.observer == nil {
		return
	}
	if to, ok := f.observer.(TracedObserver); ok {
		if id := tracing.TraceID(ctx); id != "" {
			to.ObserveBackendTraced(backend, status, d, id)
			return
		}
	}
	f.observer.ObserveBackend(backend, status, d)
}

// Only returns a Chain that purges on the named backends alone (CDN
// purgers and the Redis side, by name), through the very same purgers —
// coalescing, batching and rate limits included — with the same deadline
// and observer. The journal's re-driver uses it to finish only what failed.
func (f *Chain) Only(backends []string) *Chain {
	g := *f
	g.cdn = nil
	for _, c := range f.cdn {
		if slices.Contains(backends, c.Name()) {
			g.cdn = append(g.cdn, c)
		}
	}
	if f.keys != nil && !slices.Contains(backends, f.keys.Name()) {
		g.keys = nil
	}
	return &g
}

// RunOn is Run on the named backends only (see Only); never a dry run.
func (f *Chain) RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *Answer) {
	f.Only(backends).Run(ctx, id, p, false, a)
}

// KeysBackend is the name of the Redis side's results ("redis"), or ""
// when there is none.
func (f *Chain) KeysBackend() string {
	if f.keys == nil {
		return ""
	}
	return f.keys.Name()
}
