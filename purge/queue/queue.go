// Package queue wraps a CDN purger so that a storm of events becomes a
// trickle of full calls: per zone and kind, concurrent events' items are
// coalesced and batched (package batch) up to the per-call limit, within the
// account's rate budget (package ratelimit), and a 429 pauses the budget
// instead of failing the events. A transient failure (429, 5xx, no answer)
// puts the batch back at the head of its queue after a backoff (package
// retry), as long as an event still waits for it: the events' own deadlines
// bound the retrying.
package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgepurge/edgepurge/internal/batch"
	"github.com/edgepurge/edgepurge/internal/tracing"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/retry"
)

// Limiter is the account's purge budget (package ratelimit).
type Limiter interface {
	Take(ctx context.Context, b ratelimit.Bucket, n int) (int, time.Duration)
	Pause(ctx context.Context, b ratelimit.Bucket, d time.Duration)
}

// Observer is told what the coalescer does, for metrics. It may be nil.
type Observer interface {
	Coalesced(kind string, n int)
	Throttled(kind string)
	CallSent(kind string, items int)
	// Escalated is told of a request purged by its cover instead of its
	// urls URLs.
	Escalated(urls int)
}

// Config configures a Purger.
type Config struct {
	// Next does the actual calls; each batch is one call of it.
	Next purge.Purger
	// MaxURLsPerCall and MaxItemsPerCall are the CDN's per-call limits.
	MaxURLsPerCall, MaxItemsPerCall int
	// MaxInflight is how many calls of one zone and kind may be in flight.
	MaxInflight int
	// Limiter may be nil: no budget of edgepurge's own.
	Limiter Limiter
	// Limiters, when set, is each zone's budget instead of Limiter: a
	// Cloudflare account's buckets are per plan, and zones of different
	// plans spend (and a 429 pauses) different ones.
	Limiters func(zone string) Limiter
	Observer Observer
	// CallTimeout bounds one CDN call.
	CallTimeout time.Duration
	// Backoff spaces the retries of a failed batch (the zero value uses
	// retry's defaults: 100 ms doubling up to 5 s, with jitter). A 429
	// waits its Retry-After (1 s without one) and pauses the budget.
	Backoff retry.Backoff
	// OnRetry, when set, is told each retried batch's reason (retry.Reason).
	OnRetry func(reason string)
	// Escalation, when set, lets a request with a cover be purged by it
	// instead of its URLs when the URL budget is the bottleneck.
	Escalation *Escalation
	// TagsPerItem makes tag calls spend the ratelimit.Tags bucket a token
	// per tag, as URLs do theirs, instead of a Calls token per call: Akamai
	// counts cache tags one by one.
	TagsPerItem bool
}

// Purger coalesces and batches purges for Next. It is safe for concurrent use.
type Purger struct {
	cfg       Config
	mu        sync.Mutex
	queues    map[queueKey]*zoneQueue
	lastSweep time.Time
	now       func() time.Time
	// load is the queues' backlog, for the escalation rule (escalate.go).
	load load
	// escalatedAt is when a request last escalated to its cover, Unix ns.
	escalatedAt atomic.Int64
	// waitSpan names the span of a part's wait in the queue.
	waitSpan string
}

// zoneQueue is the queue of one zone and kind, and when it was last used.
type zoneQueue struct {
	q    *batch.Queue
	used time.Time
}

// idleQueueTTL is how long an idle queue is kept. Zones come from the page
// registry too, so the set of queues would otherwise only ever grow; a
// queue dropped while a purge still holds it keeps working for that purge.
const idleQueueTTL = time.Minute

// queueKey names a queue: a soft purge never shares a call with a hard
// one, since the CDN marks the whole call soft or not.
type queueKey struct {
	zone, kind string
	soft       bool
}

// New returns a Purger.
func New(cfg Config) *Purger {
	if cfg.MaxURLsPerCall < 1 {
		cfg.MaxURLsPerCall = 100
	}
	if cfg.MaxItemsPerCall < 1 {
		cfg.MaxItemsPerCall = 100
	}
	p := &Purger{cfg: cfg, queues: map[queueKey]*zoneQueue{}, now: time.Now, waitSpan: "queue wait"}
	if cfg.Next != nil {
		p.waitSpan = cfg.Next.Name() + " queue wait"
	}
	return p
}

// Name is the wrapped purger's name.
func (p *Purger) Name() string { return p.cfg.Next.Name() }

// Item kinds, matching the CDN's purge kinds.
const (
	kindURLs       = "urls"
	kindTags       = "tags"
	kindHosts      = "hosts"
	kindPrefixes   = "prefixes"
	kindEverything = "everything"
)

// everything is the one item of a purge-everything queue.
const everything = "*"

// Purge queues every item of req and returns once all were sent and
// answered, or ctx ended. It never reports success for an item that was
// not sent.
//
// The common request, of one kind of item, is sent from this goroutine;
// one of several kinds sends each kind from a goroutine of its own
// (purgeParts).
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	pt, ok := onlyPart(&req)
	if !ok {
		return p.purgeParts(ctx, &req)
	}
	o, escalation := p.do(ctx, &req, pt, p.escalable(&req))
	return fold([]batch.Tally{o}, []string{escalation})
}

// onlyPart is req's items, when they are all of one kind.
func onlyPart(req *purge.Request) (pt part, ok bool) {
	n := 0
	eachPart(req, func(p part) { pt, n = p, n+1 })
	return pt, n == 1
}

// eachPart calls f with each kind of req's items, in a fixed order.
func eachPart(req *purge.Request, f func(part)) {
	if len(req.URLs) > 0 {
		f(part{kindURLs, req.URLs})
	}
	if len(req.Tags) > 0 {
		f(part{kindTags, req.Tags})
	}
	if len(req.Hosts) > 0 {
		f(part{kindHosts, req.Hosts})
	}
	if len(req.Prefixes) > 0 {
		f(part{kindPrefixes, req.Prefixes})
	}
	if req.Everything {
		f(part{kindEverything, []string{everything}})
	}
}

// purgeParts sends each kind of req's items (none, or several) from a
// goroutine of its own and waits for them all.
func (p *Purger) purgeParts(ctx context.Context, req *purge.Request) (purge.Result, error) {
	r := *req // the goroutines' own copy: the caller's need not move to the heap
	var parts []part
	eachPart(&r, func(pt part) { parts = append(parts, pt) })
	escalable := p.escalable(&r)
	outcomes := make([]batch.Tally, len(parts))
	escalations := make([]string, len(parts))
	var wg sync.WaitGroup
	for i, pt := range parts {
		wg.Go(func() { outcomes[i], escalations[i] = p.do(ctx, &r, pt, escalable) })
	}
	wg.Wait()
	return fold(outcomes, escalations)
}

// do sends one part of req through its queue and waits; escalation is
// the reason its URLs were purged by the page's cover instead, or "".
//
// The part's wait in the queue, from its arrival until the last of its
// items was handed to a call, is a span of its own when the event is
// traced; the calls are spans of the queue's (see startCall in package
// batch), children of the event's step beside the wait.
func (p *Purger) do(ctx context.Context, req *purge.Request, pt part, escalable bool) (o batch.Tally, escalation string) {
	_, wait := tracing.Start(ctx, p.waitSpan)
	defer func() { p.endWait(wait, req, pt, &o, escalation) }()
	if pt.kind == kindURLs && escalable {
		return p.doURLs(ctx, req, pt.items)
	}
	return p.queue(req.Zone, pt.kind, req.Soft).Do(ctx, pt.items), ""
}

// endWait ends a part's queue-wait span when its items went out (now, when
// some never did), with what became of them.
func (p *Purger) endWait(span trace.Span, req *purge.Request, pt part, o *batch.Tally, escalation string) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("edgepurge.zone", req.Zone), attribute.String("edgepurge.kind", pt.kind),
		attribute.Int("edgepurge.items", len(pt.items)), attribute.Int("edgepurge.coalesced", o.Coalesced),
		attribute.Int("edgepurge.calls", o.Calls))
	if escalation != "" {
		span.SetAttributes(attribute.String("edgepurge.escalation", escalation))
	}
	if o.Err != nil {
		span.SetStatus(codes.Error, o.Err.Error())
	}
	if o.SentAt.IsZero() || o.Err != nil {
		span.End()
		return
	}
	tracing.EndAt(span, o.SentAt)
}

// fold folds the outcomes of a request's parts, and their escalations,
// into its result.
func fold(outcomes []batch.Tally, escalations []string) (purge.Result, error) {
	var res purge.Result
	var errs []error
	for i, o := range outcomes {
		res.Items += o.Done
		res.Calls += o.Calls
		if escalations[i] != "" {
			res.Escalation = escalations[i]
		}
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	if len(errs) == 0 {
		return res, nil
	}
	return res, asPurgeError(errs)
}

// part is the items of one kind in a request.
type part struct {
	kind  string
	items []string
}

// asPurgeError folds the failures of a request's parts into one
// *purge.Error. A deadline that passed while a failed call was being
// retried reports that call's failure (its status and codes), with the
// attempt count, as does one that passed while the items waited behind
// another call's backoff from a failing CDN (5xx, no answer); a deadline
// that passed while a call was in flight is a retryable failure without
// an answer; one that passed before the items were sent for want of
// budget, or behind a 429, is Unsent (back-pressure: the CDN never saw
// them). Otherwise the first *purge.Error is kept as it is.
func asPurgeError(errs []error) error {
	var first *batch.DeadlineError
	for _, err := range errs {
		var de *batch.DeadlineError
		if errors.As(err, &de) {
			if first == nil || de.Sent && !first.Sent || de.Last != nil && first.Last == nil {
				first = de
			}
			continue
		}
		if pe := purge.AsError(err); pe != nil {
			return err
		}
	}
	if first == nil {
		return &purge.Error{Op: "purge", Message: errors.Join(errs...).Error(), Retryable: true}
	}
	if last := purge.AsError(first.Last); last != nil {
		pe := *last
		pe.Retryable = true
		pe.Message = fmt.Sprintf("%s (after %d attempts; %d of %d items not purged when the deadline passed)",
			last.Message, first.Attempts, first.Waiting, first.Total)
		return &pe
	}
	if first.Sent {
		return &purge.Error{Op: "purge", Message: "no answer from the CDN before the deadline: " + first.Error(), Retryable: true}
	}
	if blocked := purge.AsError(first.Blocked); blocked != nil && blocked.StatusCode != 429 {
		pe := *blocked
		pe.Retryable = true
		pe.Message = fmt.Sprintf("%s (%d of %d items not sent when the deadline passed: the CDN was failing and the queue backing off)",
			blocked.Message, first.Waiting, first.Total)
		return &pe
	}
	return &purge.Error{Op: "purge", Message: first.Error(), Retryable: true, Unsent: true}
}

func (p *Purger) queue(zone, kind string, soft bool) *batch.Queue {
	key := queueKey{zone, kind, soft}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastSweep) > idleQueueTTL {
		p.sweep(now)
	}
	if zq, ok := p.queues[key]; ok {
		zq.used = now
		return zq.q
	}
	q := batch.New(p.options(zone, kind, soft))
	p.queues[key] = &zoneQueue{q: q, used: now}
	return q
}

// sweep drops the queues idle for idleQueueTTL. Called with p.mu held.
func (p *Purger) sweep(now time.Time) {
	p.lastSweep = now
	for key, zq := range p.queues {
		if now.Sub(zq.used) > idleQueueTTL && zq.q.Idle() {
			delete(p.queues, key)
		}
	}
}

// Pending is how many items wait to be sent to zone, of every kind.
func (p *Purger) Pending(zone string) int {
	p.mu.Lock()
	qs := make([]*batch.Queue, 0, len(p.queues))
	for k, zq := range p.queues {
		if k.zone == zone {
			qs = append(qs, zq.q)
		}
	}
	p.mu.Unlock()
	n := 0
	for _, q := range qs {
		n += q.Pending()
	}
	return n
}

// Queues is how many zone queues the Purger holds.
func (p *Purger) Queues() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queues)
}

// limiter is the budget zone spends, or nil.
func (p *Purger) limiter(zone string) Limiter {
	if p.cfg.Limiters != nil {
		return p.cfg.Limiters(zone)
	}
	return p.cfg.Limiter
}

// options are the batching of one zone's queue of one kind. Each kind
// spends its bucket: URLs the URL one, tags, hosts and prefixes the call
// one, purge-everything ratelimit.Everything (the call one unless the
// budget counts it apart, as Fastly's purge_all); a 429 pauses that bucket
// only.
func (p *Purger) options(zone, kind string, soft bool) batch.Options {
	bucket, perCall := ratelimit.Calls, p.cfg.MaxItemsPerCall
	switch kind {
	case kindURLs:
		bucket, perCall = ratelimit.URLs, p.cfg.MaxURLsPerCall
	case kindEverything:
		bucket, perCall = ratelimit.Everything, 1
	case kindTags:
		if p.cfg.TagsPerItem {
			bucket = ratelimit.Tags
		}
	}
	perItem := bucket == ratelimit.URLs || bucket == ratelimit.Tags
	limiter := p.limiter(zone)
	o := batch.Options{
		MaxItems:    perCall,
		MaxInflight: p.cfg.MaxInflight,
		CallTimeout: p.cfg.CallTimeout,
		CallSpan:    p.Name() + " call",
		CallAttributes: []attribute.KeyValue{attribute.String("edgepurge.backend", p.Name()),
			attribute.String("edgepurge.zone", zone), attribute.String("edgepurge.kind", kind), attribute.Bool("edgepurge.soft", soft)},
		Flush: func(ctx context.Context, items []string) error {
			if p.cfg.Observer != nil {
				p.cfg.Observer.CallSent(kind, len(items))
			}
			req := request(zone, kind, items)
			req.Soft = soft
			_, err := p.cfg.Next.Purge(ctx, req)
			return err
		},
		Requeue: func(err error, attempt int) (bool, time.Duration) {
			if !retry.Retryable(err) {
				return false, 0
			}
			if p.cfg.OnRetry != nil {
				p.cfg.OnRetry(retry.Reason(err))
			}
			pe := purge.AsError(err)
			if pe.StatusCode != 429 {
				return true, p.cfg.Backoff.Delay(attempt, pe.RetryAfter)
			}
			pause := pe.RetryAfter
			if pause <= 0 {
				pause = time.Second
			}
			if p.cfg.Observer != nil {
				p.cfg.Observer.Throttled(kind)
			}
			if limiter != nil {
				limiter.Pause(context.Background(), bucket, pause)
			}
			return true, pause
		},
	}
	if p.cfg.Observer != nil {
		o.OnCoalesced = func(n int) { p.cfg.Observer.Coalesced(kind, n) }
	}
	var fill *coverFill // covers go out in full calls while pages escalate
	if p.cfg.Escalation != nil && (kind == kindTags || kind == kindHosts) {
		fill = &coverFill{p: p, full: perCall}
	}
	if limiter != nil {
		o.Acquire = func(ctx context.Context, n int) (int, time.Duration) {
			if !perItem {
				// A tag/host/prefix/everything call costs one token,
				// whatever it carries.
				if fill != nil && fill.hold(n) {
					return 0, fillPoll
				}
				g, wait := limiter.Take(ctx, bucket, 1)
				if g == 0 {
					return 0, wait
				}
				return n, 0
			}
			return limiter.Take(ctx, bucket, n)
		}
	}
	return o
}

// request is one call's worth of items of one kind.
func request(zone, kind string, items []string) purge.Request {
	r := purge.Request{Zone: zone}
	switch kind {
	case kindURLs:
		r.URLs = items
	case kindTags:
		r.Tags = items
	case kindHosts:
		r.Hosts = items
	case kindPrefixes:
		r.Prefixes = items
	case kindEverything:
		r.Everything = true
	}
	return r
}
