// Package batch is a group-commit queue with coalescing: concurrent callers
// hand it items, it sends them in batches of up to a per-call limit as soon
// as a call slot and the rate budget allow, and an item already waiting is
// never sent twice — a later caller that needs it waits for the same call.
//
// An item whose call is already in flight when a caller arrives is queued
// again: the content may have changed after that call started, so the
// caller is coalesced with the next call, never with one that started
// before it arrived.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgepurge/edgepurge/internal/tracing"
)

// Flush sends one batch; its error applies to every item of the batch.
type Flush func(ctx context.Context, items []string) error

// Acquire asks the rate budget for up to n items. It returns how many may
// go now (0 < granted <= n), or, when none may, how long to wait.
type Acquire func(ctx context.Context, n int) (granted int, wait time.Duration)

// Options configure a Queue.
type Options struct {
	// MaxItems is the most items one batch carries (the CDN's per-call limit).
	MaxItems int
	// MaxInflight is how many batches may be in flight at once.
	MaxInflight int
	// CallTimeout bounds one Flush.
	CallTimeout time.Duration
	Flush       Flush
	// Acquire may be nil: no rate budget.
	Acquire Acquire
	// Requeue says whether a failed batch goes back to the head of the
	// queue (a 429, a 5xx, no answer) and how long the queue pauses first;
	// attempt is how many times the batch's most tried item has failed
	// (1 after the first failure), for an exponential backoff. Nil: never.
	// The retrying is bounded by the callers' deadlines: an item nobody
	// waits for any more is dropped, not sent again.
	Requeue func(err error, attempt int) (requeue bool, pause time.Duration)
	// OnCoalesced is told how many items a caller found already waiting.
	OnCoalesced func(n int)
	// CallSpan names the span of one Flush (e.g. "cloudflare call"),
	// started when a caller of the batch is traced: a child of the first
	// traced caller's span, linked to every traced caller's (package
	// tracing). Default "call".
	CallSpan string
	// CallAttributes, when set, adds attributes to a call's span.
	CallAttributes []attribute.KeyValue
}

// Queue batches and coalesces items. It is safe for concurrent use; it
// runs a goroutine only while it has work.
type Queue struct {
	opts Options

	mu          sync.Mutex
	pending     []*entry          // FIFO, may hold cancelled entries
	live        int               // pending entries not cancelled
	waiting     map[string]*entry // the newest pending entry of each item
	inflight    int
	pumping     bool
	pausedUntil time.Time
	nextCall    uint64
	// backoffErr is the failure the queue is backing off from (its last
	// send failed and was requeued); nil once a send succeeds.
	backoffErr error
}

// entry is one item waiting, or sent. A storm allocates one per item: the
// fields are packed to keep it in the 96-byte size class.
type entry struct {
	item      string
	waiters   int32
	attempts  int32 // failed sends so far
	cancelled bool
	call      uint64
	done      chan struct{}
	err       error
	lastErr   error // the latest failure of a requeued send
	// sentAt is when the entry was first handed to a call, Unix ns; 0
	// before.
	sentAt int64
	// spans are the recording spans of its traced callers, for the
	// links of the call that carries it; nil when none is traced.
	spans *[]trace.Span
}

// New returns a Queue.
func New(opts Options) *Queue {
	if opts.MaxItems < 1 {
		opts.MaxItems = 1
	}
	if opts.MaxInflight < 1 {
		opts.MaxInflight = 1
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.CallSpan == "" {
		opts.CallSpan = "call"
	}
	return &Queue{opts: opts, waiting: map[string]*entry{}}
}

// Tally is what Do did for one caller.
type Tally struct {
	// Done is how many of the caller's items were sent successfully.
	Done int
	// Calls is how many distinct calls carried the caller's items.
	Calls int
	// Coalesced is how many of the caller's items were already waiting.
	Coalesced int
	// Err is the first failure, or the context's error when the caller's
	// deadline passed before every item was sent and answered.
	Err error
	// SentAt is when the last of the caller's items was first handed to
	// a call: the end of its wait in the queue. Zero when one never was.
	SentAt time.Time
}

// ErrNotSent wraps a context error when the caller gave up before all its
// items were answered by the CDN.
var ErrNotSent = errors.New("not purged before the deadline")

// DeadlineError is Tally.Err when the caller's deadline passed before
// every one of its items was sent and answered. It matches ErrNotSent, the
// context's error and, when a send of them had failed and was being
// retried, that failure.
type DeadlineError struct {
	// Waiting is how many of the caller's Total items were not purged.
	Waiting, Total int
	// Sent says some of the waiting items had reached the CDN: a call of
	// them was in flight or had failed and was being retried. False: the
	// CDN never saw them (back-pressure).
	Sent bool
	// Attempts is how many sends of the most tried waiting item failed.
	Attempts int
	// Last is the latest failure of a waiting item's send; nil if none.
	Last error
	// Blocked, when no waiting item was sent, is the failure the queue was
	// backing off from: the items waited behind a failing CDN, not for
	// budget. Nil otherwise.
	Blocked error
	// Cause is the context's error.
	Cause error
}

// Error implements error.
func (e *DeadlineError) Error() string {
	msg := fmt.Sprintf("%v: %d of %d items still waiting: %v", ErrNotSent, e.Waiting, e.Total, e.Cause)
	if e.Last != nil {
		msg += fmt.Sprintf("; last of %d failed attempts: %v", e.Attempts, e.Last)
	}
	if e.Blocked != nil {
		msg += fmt.Sprintf("; the queue was backing off after: %v", e.Blocked)
	}
	return msg
}

// Unwrap makes errors.Is and errors.As see ErrNotSent, the cause and the
// last failure.
func (e *DeadlineError) Unwrap() []error {
	errs := []error{ErrNotSent, e.Cause}
	if e.Last != nil {
		errs = append(errs, e.Last)
	}
	return errs
}

// Do queues items (distinct) and waits until every one was sent and
// answered, or ctx ends.
func (q *Queue) Do(ctx context.Context, items []string) Tally {
	if len(items) == 0 {
		return Tally{}
	}
	// A traced caller's span goes with its entries, for the links of the
	// calls that carry them; an untraced one costs a context look-up.
	var span trace.Span
	if sp := trace.SpanFromContext(ctx); sp.IsRecording() && sp.SpanContext().IsSampled() {
		span = sp
	}
	entries, coalesced := q.enqueue(items, span)
	for i, e := range entries {
		// The entries of one call are settled together: once the first is
		// done, the rest usually are too, and a receive that cannot block
		// is far cheaper than a select with the context.
		select {
		case <-e.done:
			continue
		default:
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return q.gaveUp(ctx, entries, i, coalesced)
		}
	}
	out := Tally{Coalesced: coalesced}
	out.Done, out.Calls, out.SentAt = count(entries)
	for _, e := range entries {
		if e.err != nil {
			out.Err = e.err
			break
		}
	}
	return out
}

// enqueue queues items, joining the entries already waiting for any of
// them; coalesced counts those.
func (q *Queue) enqueue(items []string, span trace.Span) (entries []*entry, coalesced int) {
	entries = make([]*entry, len(items))
	q.mu.Lock()
	for i, it := range items {
		if e, ok := q.waiting[it]; ok {
			e.waiters++
			if span != nil {
				if e.spans == nil {
					e.spans = new([]trace.Span)
				}
				*e.spans = append(*e.spans, span)
			}
			entries[i] = e
			coalesced++
			continue
		}
		e := &entry{item: it, waiters: 1, done: make(chan struct{})}
		if span != nil {
			e.spans = &[]trace.Span{span}
		}
		q.waiting[it] = e
		q.pending = append(q.pending, e)
		q.live++
		entries[i] = e
	}
	q.kick()
	q.mu.Unlock()
	if coalesced > 0 && q.opts.OnCoalesced != nil {
		q.opts.OnCoalesced(coalesced)
	}
	return entries, coalesced
}

// gaveUp is the outcome of entries when ctx ended while entries[i] was
// not settled: the caller's claim on it and on those after it is dropped.
func (q *Queue) gaveUp(ctx context.Context, entries []*entry, i, coalesced int) Tally {
	out := Tally{Coalesced: coalesced}
	de := q.abandon(entries[i:])
	de.Total, de.Cause = len(entries), ctx.Err()
	out.Err = de
	out.Done, out.Calls, _ = count(entries[:i])
	return out
}

// count counts the entries sent successfully and the distinct calls that
// carried them all, and says when the last of them was first sent.
func count(entries []*entry) (done, calls int, sentAt time.Time) {
	var last int64
	seen := map[uint64]bool{}
	for _, e := range entries {
		if e.err == nil {
			done++
		}
		seen[e.call] = true
		last = max(last, e.sentAt)
	}
	if last > 0 {
		sentAt = time.Unix(0, last)
	}
	return done, len(seen), sentAt
}

// abandon drops the caller's claim on entries; an entry nobody waits for
// any more is not sent. It says what became of the entries not done.
func (q *Queue) abandon(entries []*entry) *DeadlineError {
	q.mu.Lock()
	defer q.mu.Unlock()
	de := &DeadlineError{}
	for _, e := range entries {
		select {
		case <-e.done:
			continue
		default:
		}
		de.Waiting++
		if e.call != 0 || e.attempts > 0 {
			de.Sent = true
		}
		if int(e.attempts) > de.Attempts {
			de.Attempts, de.Last = int(e.attempts), e.lastErr
		}
		e.waiters--
		if e.waiters > 0 || e.cancelled || e.call != 0 {
			continue
		}
		e.cancelled = true
		q.live--
		if q.waiting[e.item] == e {
			delete(q.waiting, e.item)
		}
	}
	if de.Waiting > 0 && !de.Sent {
		de.Blocked = q.backoffErr
	}
	return de
}

// Idle reports whether the queue holds nothing: no item waits, none is in
// flight, no pump runs.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live == 0 && q.inflight == 0 && !q.pumping && len(q.pending) == 0
}

// Pending is how many items wait to be sent.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live
}

// kick starts the pump unless it runs. Called with q.mu held.
func (q *Queue) kick() {
	if q.pumping || q.live == 0 || q.inflight >= q.opts.MaxInflight {
		return
	}
	q.pumping = true
	go q.pump()
}

// pump sends batches while there is work, a free call slot and budget.
// While it waits for budget, arrivals accumulate: that is the batching.
func (q *Queue) pump() {
	for {
		q.mu.Lock()
		if q.live == 0 || q.inflight >= q.opts.MaxInflight {
			q.pumping = false
			q.mu.Unlock()
			return
		}
		if wait := time.Until(q.pausedUntil); wait > 0 {
			q.mu.Unlock()
			time.Sleep(wait)
			continue
		}
		n := min(q.live, q.opts.MaxItems)
		q.mu.Unlock()

		if q.opts.Acquire != nil {
			granted, wait := q.opts.Acquire(context.Background(), n)
			if granted == 0 {
				time.Sleep(max(wait, time.Millisecond))
				continue
			}
			n = granted
		}

		q.mu.Lock()
		batch := q.take(n)
		if len(batch) == 0 {
			q.mu.Unlock()
			continue
		}
		q.nextCall++
		now := time.Now().UnixNano()
		for _, e := range batch {
			e.call = q.nextCall
			if e.sentAt == 0 {
				e.sentAt = now
			}
		}
		q.inflight++
		q.mu.Unlock()
		go q.send(batch)
	}
}

// take removes up to n live entries from the head of the queue. Called
// with q.mu held.
func (q *Queue) take(n int) []*entry {
	batch := make([]*entry, 0, n)
	i := 0
	for ; i < len(q.pending) && len(batch) < n; i++ {
		e := q.pending[i]
		if e.cancelled {
			continue
		}
		batch = append(batch, e)
		q.live--
		if q.waiting[e.item] == e {
			delete(q.waiting, e.item)
		}
	}
	q.pending = q.pending[i:]
	if len(q.pending) == 0 {
		q.pending = nil // let the backing array go
	}
	return batch
}

// send flushes one batch and settles its entries.
func (q *Queue) send(batch []*entry) {
	items := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, e := range batch {
		if !seen[e.item] {
			seen[e.item] = true
			items = append(items, e.item)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.opts.CallTimeout)
	ctx, span := q.startCall(ctx, batch, len(items))
	err := q.opts.Flush(ctx, items)
	if span != nil {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	cancel()

	again, pause := false, time.Duration(0)
	if err != nil && q.opts.Requeue != nil {
		q.mu.Lock()
		attempt := 0
		for _, e := range batch {
			e.attempts++
			e.lastErr = err
			attempt = max(attempt, int(e.attempts))
		}
		q.mu.Unlock()
		// Requeue may do I/O (sharing a 429's pause through Redis): never
		// under q.mu, which every event's Do needs.
		again, pause = q.opts.Requeue(err, attempt)
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight--
	if again {
		q.backoffErr = err
		q.requeue(batch, pause)
		q.kick()
		return
	}
	if err == nil {
		q.backoffErr = nil
	}
	for _, e := range batch {
		e.err = err
		close(e.done)
	}
	q.kick()
}

// startCall starts the span of a call carrying batch when some caller of
// it is traced: a child of the first traced caller's span, linked to every
// traced caller's, so that each event's trace reaches the call that served
// it and the call names every event. Nil when no caller is traced.
func (q *Queue) startCall(ctx context.Context, batch []*entry, items int) (context.Context, trace.Span) {
	var links []trace.Link
	var first trace.Span
	var seen map[trace.SpanID]bool
	q.mu.Lock()
	for _, e := range batch {
		if e.spans == nil {
			continue
		}
		for _, sp := range *e.spans {
			sc := sp.SpanContext()
			if seen[sc.SpanID()] {
				continue
			}
			if seen == nil {
				seen, first = map[trace.SpanID]bool{}, sp
			}
			seen[sc.SpanID()] = true
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	q.mu.Unlock()
	if first == nil {
		return ctx, nil
	}
	attrs := append([]attribute.KeyValue{attribute.Int("edgepurge.items", items), attribute.Int("edgepurge.events", len(links))},
		q.opts.CallAttributes...)
	parent := trace.ContextWithSpanContext(ctx, first.SpanContext())
	return first.TracerProvider().Tracer(tracing.Scope).Start(parent, q.opts.CallSpan,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(links...), trace.WithAttributes(attrs...))
}

// requeue puts a refused batch back at the head of the queue after a
// pause. Called with q.mu held.
func (q *Queue) requeue(batch []*entry, pause time.Duration) {
	if until := time.Now().Add(pause); until.After(q.pausedUntil) {
		q.pausedUntil = until
	}
	back := make([]*entry, 0, len(batch)+len(q.pending))
	for _, e := range batch {
		e.call = 0
		if e.waiters == 0 {
			e.cancelled = true
			e.err = ErrNotSent
			close(e.done)
			continue
		}
		back = append(back, e)
		q.live++
		if _, newer := q.waiting[e.item]; !newer {
			q.waiting[e.item] = e
		}
	}
	q.pending = append(back, q.pending...)
}
