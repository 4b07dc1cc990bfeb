package cloudfront

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/retry"
)

// batch is one invalidation: the paths concurrent requests asked for, then
// once sealed the batch sent (rec), its creation and its completion.
type batch struct {
	dist string
	// mu is the Purger's lock, which guards the fields below.
	mu *sync.Mutex

	// Guarded by Purger.mu.
	asked       map[string]bool
	order       []string
	refs        map[string]bool
	deadline    time.Time
	noDeadline  bool
	sealed      bool
	resumed     bool
	calls       int
	rec         Record
	createErr   *purge.Error // set before created is closed
	completeErr *purge.Error // set before completed is closed

	// sent says a CreateInvalidation of the batch went out.
	sent      atomic.Bool
	created   chan struct{}
	completed chan struct{}
	closeOnce sync.Once
}

func newBatch(mu *sync.Mutex, dist string) *batch {
	return &batch{dist: dist, mu: mu, asked: map[string]bool{}, refs: map[string]bool{}, created: make(chan struct{}), completed: make(chan struct{})}
}

// open reports whether the batch takes new paths; with Purger.mu held.
func (b *batch) open() bool { return !b.sealed && !b.resumed }

// ask adds a path; with Purger.mu held.
func (b *batch) ask(path string) {
	if !b.asked[path] {
		b.asked[path] = true
		b.order = append(b.order, path)
	}
}

// joinLocked adds a request's Ref and deadline; with Purger.mu held. The
// batch's deadline is its latest request's: a batch with a request
// without a deadline never waits to retry.
func (b *batch) joinLocked(ref string, deadline time.Time, has bool) {
	b.refs[ref] = true
	if !has {
		b.noDeadline = true
	} else if deadline.After(b.deadline) {
		b.deadline = deadline
	}
}

// deadlineOf is the batch's deadline, if it has one.
func (b *batch) deadlineOf(mu *sync.Mutex) (time.Time, bool) {
	mu.Lock()
	defer mu.Unlock()
	return b.deadline, !b.noDeadline && !b.deadline.IsZero()
}

// id is the invalidation's id, once known.
func (b *batch) id() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rec.ID
}

// accepted reports whether CloudFront made the invalidation.
func (b *batch) accepted() bool {
	select {
	case <-b.created:
		return b.createErr == nil
	default:
		return false
	}
}

// finish marks the batch Completed, or failed to complete with err.
func (b *batch) finish(err *purge.Error) {
	b.closeOnce.Do(func() {
		b.completeErr = err
		close(b.completed)
	})
}

// await waits until the batch's invalidation is Completed, or failed, or
// ctx ends, and returns the request's error for it.
func (b *batch) await(ctx context.Context) *purge.Error {
	select {
	case <-b.created:
	case <-ctx.Done():
		select {
		case <-b.created:
			// Made as the deadline came: the wait below says so.
			return b.pastCreate(ctx)
		default:
		}
		op := "invalidate in cloudfront distribution " + b.dist
		pe := purge.NotSent(ctx, op)
		// A batch on the wire may have been made: not Unsent.
		pe.Unsent = !b.sentFlag()
		if !pe.Unsent {
			pe.Message = "no answer to CreateInvalidation before the deadline (" + ctx.Err().Error() + "); a re-drive sends the same batch, which CloudFront does not make twice"
		}
		return pe
	}
	return b.pastCreate(ctx)
}

// pastCreate waits, once the batch's creation ended, for its completion.
func (b *batch) pastCreate(ctx context.Context) *purge.Error {
	if b.createErr != nil {
		return b.createErr
	}
	select {
	case <-b.completed:
		// Completed wins over a deadline that came at the same time.
		return b.completeErr
	default:
	}
	select {
	case <-b.completed:
		return b.completeErr
	case <-ctx.Done():
		return &purge.Error{Op: "wait for invalidation " + b.id(), Retryable: true, Pending: true,
			Message: "still InProgress at the deadline (" + ctx.Err().Error() + "); a re-drive waits for this same invalidation"}
	}
}

func (b *batch) sentFlag() bool { return b.sent.Load() }

func (b *batch) markSent() { b.sent.Store(true) }

// send sends d's batches one after the other until none is left: while
// one is on its way, the paths arriving gather in the next.
func (p *Purger) send(d *dist) {
	for {
		p.mu.Lock()
		if len(d.queue) == 0 {
			d.sending = false
			p.mu.Unlock()
			return
		}
		b := d.queue[0]
		d.queue = d.queue[1:]
		fresh := !b.resumed
		if fresh {
			b.sealed = true
			b.rec = Record{Distribution: d.id, Paths: p.collapseLocked(d, b.order, time.Now())}
			b.rec.CallerReference = p.callerRef(d.id, b.refs, b.rec.Paths)
			p.live[b.rec.CallerReference] = b
		}
		refs := make([]string, 0, len(b.refs))
		for r := range b.refs {
			if r != "" {
				refs = append(refs, r)
			}
		}
		rec := b.rec
		p.mu.Unlock()
		if fresh && len(refs) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CallTimeout)
			// Recorded before it is sent: a re-drive after a lost answer
			// then sends this very batch. If Redis cannot take it, the
			// purge goes on (purging matters more); a re-drive then forms
			// the batch again, with the same CallerReference when the
			// same requests make it.
			_ = p.refs.Add(ctx, refs, rec)
			cancel()
		}
		p.create(d, b)
	}
}

// callerRef derives a batch's CallerReference from its distribution, the
// Refs of its requests (event and step) and its paths: the same work gets
// the same reference. A request without a Ref (a probe, a test) makes it
// unique.
func (p *Purger) callerRef(dist string, refs map[string]bool, paths []string) string {
	h := sha256.New()
	fmt.Fprintln(h, dist)
	sorted := make([]string, 0, len(refs))
	for r := range refs {
		sorted = append(sorted, r)
	}
	slices.Sort(sorted)
	if len(sorted) == 0 || sorted[0] == "" {
		fmt.Fprintln(h, time.Now().UnixNano(), p.seq.Add(1))
	}
	for _, r := range sorted {
		fmt.Fprintln(h, r)
	}
	for _, path := range paths {
		fmt.Fprintln(h, path)
	}
	return "edgepurge-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// collapseLocked is the batch's paths as sent: the wildcard path of each
// directory that had more than CollapseAfter distinct paths sent within
// CollapseWindow instead of its paths; exact paths a wildcard covers
// dropped; "/*" alone when more wildcards than can ever be in progress.
// With Purger.mu held.
func (p *Purger) collapseLocked(d *dist, asked []string, now time.Time) []string {
	for dir, seen := range d.recent {
		for path, at := range seen {
			if now.Sub(at) > p.cfg.CollapseWindow {
				delete(seen, path)
			}
		}
		if len(seen) == 0 {
			delete(d.recent, dir)
		}
	}
	byDir := map[string][]string{}
	var wild []string
	for _, path := range asked {
		if wildcard(path) {
			wild = append(wild, path)
			continue
		}
		byDir[dirOf(path)] = append(byDir[dirOf(path)], path)
	}
	var exact []string
	for dir, paths := range byDir {
		seen := d.recent[dir]
		if seen == nil {
			seen = map[string]time.Time{}
			d.recent[dir] = seen
		}
		for _, path := range paths {
			seen[path] = now
		}
		if dir != "/" && len(seen) > p.cfg.CollapseAfter {
			wild = append(wild, dir+"*")
			continue
		}
		exact = append(exact, paths...)
	}
	slices.Sort(wild)
	wild = slices.Compact(wild)
	if len(wild) > p.cfg.MaxWildcardsInProgress || slices.Contains(wild, "/*") {
		return []string{"/*"}
	}
	var out []string
	for _, w := range wild {
		if !covers(slices.DeleteFunc(slices.Clone(wild), func(o string) bool { return o == w }), w) {
			out = append(out, w)
		}
	}
	for _, path := range exact {
		if !covers(wild, path) {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

// dirOf is the directory of a path ("/incidents/" of "/incidents/x?y"),
// "/" at the top.
func dirOf(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path[:strings.LastIndexByte(path, '/')+1]
}

// counts are a batch's individual and wildcard paths.
func counts(paths []string) (exact, wild int) {
	for _, path := range paths {
		if wildcard(path) {
			wild++
		} else {
			exact++
		}
	}
	return exact, wild
}

// retryWait is how long a batch refused with err waits before its next
// attempt, and whether it may: TooManyInvalidationsInProgress and
// throttling are waited out, under the batch's deadline.
func (p *Purger) retryWait(b *batch, pe *purge.Error, code string, attempt int) (time.Duration, bool) {
	if code != codeTooMany && !throttled(code) {
		return 0, false
	}
	dl, ok := b.deadlineOf(&p.mu)
	if !ok {
		return 0, false
	}
	wait := max(pe.RetryAfter, min(p.cfg.PollInterval<<min(attempt, 6), p.cfg.MaxPollInterval))
	return wait, time.Until(dl) > wait
}

// create sends a sealed batch, waiting first until CloudFront's limits of
// invalidations in progress leave room for it, and retrying what
// CloudFront asks to wait out; then starts polling it.
func (p *Purger) create(d *dist, b *batch) {
	exact, wild := counts(b.rec.Paths)
	for attempt := 0; ; attempt++ {
		if pe := p.roomFor(d, b, exact, wild); pe != nil {
			p.failCreate(b, pe)
			return
		}
		ctx, cancel := p.callContext(b)
		if err := p.take(ctx, createBucket); err != nil {
			cancel()
			p.failCreate(b, &purge.Error{Op: "invalidate", Retryable: true, Unsent: !b.sentFlag(),
				Message: "not sent: the deadline passed while waiting for the API budget"})
			return
		}
		p.mu.Lock()
		b.calls++
		p.mu.Unlock()
		b.markSent()
		out, err := p.api.CreateInvalidation(ctx, &cf.CreateInvalidationInput{
			DistributionId: aws.String(d.id),
			InvalidationBatch: &types.InvalidationBatch{
				CallerReference: aws.String(b.rec.CallerReference),
				Paths:           &types.Paths{Quantity: aws.Int32(int32(len(b.rec.Paths))), Items: b.rec.Paths},
			},
		})
		cancel()
		if err == nil && out.Invalidation != nil {
			p.created(d, b, out.Invalidation)
			return
		}
		if err == nil {
			err = fmt.Errorf("answer without an invalidation")
		}
		pe := apiError(ctx, "invalidate", PermCreateInvalidation, err)
		code := codeOf(err)
		if throttled(code) && p.cfg.Budget != nil {
			p.cfg.Budget.Pause(context.Background(), createBucket, pe.RetryAfter)
		}
		wait, again := p.retryWait(b, pe, code, attempt)
		if !again {
			p.failCreate(b, pe)
			return
		}
		if p.cfg.OnRetry != nil {
			// Throttled, or CloudFront's in-progress limit: both say
			// "come back later", as a 429 does.
			p.cfg.OnRetry(retry.ReasonThrottled)
		}
		time.Sleep(wait)
	}
}

// roomFor waits until the distribution's invalidations in progress leave
// room for a batch of exact and wild paths, or the batch's deadline
// passes. A batch without a deadline does not wait: CloudFront refuses
// it if there is no room.
func (p *Purger) roomFor(d *dist, b *batch, exact, wild int) *purge.Error {
	for {
		p.mu.Lock()
		e, w := 0, 0
		for o := range d.inProgress {
			oe, ow := counts(o.rec.Paths)
			e, w = e+oe, w+ow
		}
		changed := d.changed
		p.mu.Unlock()
		if e+exact <= p.cfg.MaxPathsInProgress && w+wild <= p.cfg.MaxWildcardsInProgress {
			return nil
		}
		dl, ok := b.deadlineOf(&p.mu)
		if !ok {
			return nil
		}
		t := time.NewTimer(time.Until(dl))
		select {
		case <-changed:
			t.Stop()
		case <-t.C:
			return &purge.Error{Op: "invalidate", Retryable: true, Unsent: true,
				Message: fmt.Sprintf("not sent: distribution %s had %d paths and %d wildcard paths in progress until the deadline (CloudFront allows %d and %d)",
					d.id, e, w, p.cfg.MaxPathsInProgress, p.cfg.MaxWildcardsInProgress)}
		}
	}
}

// failCreate ends a batch CloudFront did not make.
func (p *Purger) failCreate(b *batch, pe *purge.Error) {
	p.mu.Lock()
	b.createErr = pe
	delete(p.live, b.rec.CallerReference)
	p.mu.Unlock()
	close(b.created)
	b.finish(pe)
}

// created records the invalidation CloudFront made (or had made for the
// same CallerReference) and starts polling it.
func (p *Purger) created(d *dist, b *batch, inv *types.Invalidation) {
	p.mu.Lock()
	b.rec.ID = aws.ToString(inv.Id)
	rec := b.rec
	p.mu.Unlock()
	close(b.created)
	p.mu.Lock()
	d.inProgress[b] = true
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CallTimeout)
	_ = p.refs.SetID(ctx, rec)
	cancel()
	if aws.ToString(inv.Status) == string(statusCompleted) {
		p.done(d, b, nil)
		return
	}
	go p.poll(d, b)
}

// statusCompleted is an invalidation's status once done.
const statusCompleted = "Completed"

// done takes a batch out of the distribution's invalidations in progress.
func (p *Purger) done(d *dist, b *batch, pe *purge.Error) {
	p.mu.Lock()
	delete(d.inProgress, b)
	delete(p.live, b.rec.CallerReference)
	close(d.changed)
	d.changed = make(chan struct{})
	p.mu.Unlock()
	b.finish(pe)
}

// poll reads the invalidation's status, backing off from PollInterval to
// MaxPollInterval, until it is Completed, CloudFront refuses the read for
// good, or MaxWait passed (a re-drive then polls it again).
func (p *Purger) poll(d *dist, b *batch) {
	start := time.Now()
	wait := p.cfg.PollInterval
	recreated := false
	for {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.stop.Done():
			t.Stop()
			p.done(d, b, &purge.Error{Op: "wait for invalidation " + b.rec.ID, Retryable: true, Pending: true,
				Message: "edgepurge stopped before it was Completed; a re-drive waits for this same invalidation"})
			return
		}
		wait = min(2*wait, p.cfg.MaxPollInterval)
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CallTimeout)
		if p.take(ctx, readBucket) != nil {
			cancel()
			continue
		}
		out, err := p.api.GetInvalidation(ctx, &cf.GetInvalidationInput{DistributionId: aws.String(d.id), Id: aws.String(b.rec.ID)})
		cancel()
		switch {
		case err == nil && out.Invalidation != nil && aws.ToString(out.Invalidation.Status) == statusCompleted:
			p.done(d, b, nil)
			return
		case err != nil && codeOf(err) == codeNoInvalidation && b.resumed && !recreated:
			// A record of another account, distribution or stand-in:
			// the same batch, sent again with its CallerReference, is
			// answered with the invalidation CloudFront has for it, or
			// made if it has none.
			recreated = true
			if pe := p.resend(d, b); pe != nil {
				p.done(d, b, pe)
				return
			}
			continue
		case err != nil:
			pe := apiError(ctx, "read invalidation "+b.rec.ID, PermGetInvalidation, err)
			if !pe.Retryable {
				p.done(d, b, pe)
				return
			}
			if throttled(codeOf(err)) && p.cfg.Budget != nil {
				p.cfg.Budget.Pause(context.Background(), readBucket, pe.RetryAfter)
			}
		}
		if time.Since(start) > p.cfg.MaxWait {
			p.done(d, b, &purge.Error{Op: "wait for invalidation " + b.rec.ID, Retryable: true, Pending: true,
				Message: fmt.Sprintf("still InProgress after %s; a re-drive waits for this same invalidation", p.cfg.MaxWait)})
			return
		}
	}
}

// resend sends a resumed batch again, as recorded, and records the
// invalidation id CloudFront answers with.
func (p *Purger) resend(d *dist, b *batch) *purge.Error {
	ctx, cancel := p.callContext(b)
	defer cancel()
	if err := p.take(ctx, createBucket); err != nil {
		return &purge.Error{Op: "invalidate", Retryable: true, Message: "the deadline passed while waiting for the API budget"}
	}
	p.mu.Lock()
	b.calls++
	p.mu.Unlock()
	out, err := p.api.CreateInvalidation(ctx, &cf.CreateInvalidationInput{
		DistributionId: aws.String(d.id),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(b.rec.CallerReference),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(b.rec.Paths))), Items: b.rec.Paths},
		},
	})
	if err != nil || out.Invalidation == nil {
		if err == nil {
			err = fmt.Errorf("answer without an invalidation")
		}
		return apiError(ctx, "invalidate", PermCreateInvalidation, err)
	}
	p.mu.Lock()
	b.rec.ID = aws.ToString(out.Invalidation.Id)
	rec := b.rec
	p.mu.Unlock()
	_ = p.refs.SetID(ctx, rec)
	return nil
}
