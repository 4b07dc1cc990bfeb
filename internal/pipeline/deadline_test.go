package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// deadlines records the deadline of each context the pipeline hands its
// purger and duplicate store, and purges successfully.
type deadlines struct {
	mu                 sync.Mutex
	purge, seen, marks []time.Time
}

func (d *deadlines) note(list *[]time.Time, ctx context.Context) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Time{}
	}
	d.mu.Lock()
	*list = append(*list, dl)
	d.mu.Unlock()
}

func (d *deadlines) Run(ctx context.Context, id string, p *plan.Plan, _ bool, a *chain.Answer) {
	d.note(&d.purge, ctx)
	*a = chain.Answer{ID: id, Plan: *p, Status: chain.StatusPurged}
}

func (d *deadlines) RunOn(ctx context.Context, _ []string, id string, p *plan.Plan, a *chain.Answer) {
	d.Run(ctx, id, p, false, a)
}

func (d *deadlines) Seen(ctx context.Context, _ string) (bool, error) {
	d.note(&d.seen, ctx)
	return false, nil
}

func (d *deadlines) MarkPurged(ctx context.Context, _ string) (bool, error) {
	d.note(&d.marks, ctx)
	return true, nil
}

// Each step's context carries the bound it must: the purge the sooner of
// the request's deadline less the settle reserve and the purge timeout;
// the duplicate check and mark the sooner of the request's deadline and
// dedupeTimeout.
func TestEachStepGetsItsBound(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		deadline, purgeTimeout time.Duration
		wantPurge, wantDedupe  time.Duration // from the start of Handle
	}{
		{"purge timeout sooner", 10 * time.Second, 3 * time.Second, 3 * time.Second, dedupeTimeout},
		{"request deadline sooner", time.Second, 10 * time.Second, time.Second - settleReserve(time.Second), dedupeTimeout},
		{"no purge timeout", 5 * time.Second, 0, 5*time.Second - settleReserve(5*time.Second), dedupeTimeout},
		{"deadline shorter than the dedupe bound", 100 * time.Millisecond, 0, 100*time.Millisecond - settleReserve(100*time.Millisecond), 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &deadlines{}
			p := New(Config{Planner: onePlan{}, Purger: d, Dedupe: d, Deadline: tc.deadline, PurgeTimeout: tc.purgeTimeout})
			before := time.Now()
			o := p.Handle(context.Background(), hook("e1", "p1"))
			after := time.Now()
			if o.HTTPStatus != 200 || len(d.purge) != 1 || len(d.seen) != 1 || len(d.marks) != 1 {
				t.Fatalf("%d; %d purges, %d checks, %d marks", o.HTTPStatus, len(d.purge), len(d.seen), len(d.marks))
			}
			within := func(what string, got time.Time, want time.Duration) {
				t.Helper()
				if got.IsZero() || got.Before(before.Add(want)) || got.After(after.Add(want)) {
					t.Errorf("%s deadline %v after the start; want %v", what, got.Sub(before), want)
				}
			}
			within("purge", d.purge[0], tc.wantPurge)
			within("duplicate check", d.seen[0], tc.wantDedupe)
			within("mark", d.marks[0], tc.wantDedupe)
		})
	}
}

// Without any bound, the purge's context has none either.
func TestNoBoundNoDeadline(t *testing.T) {
	d := &deadlines{}
	p := New(Config{Planner: onePlan{}, Purger: d})
	if o := p.Handle(context.Background(), hook("e1", "p1")); o.HTTPStatus != 200 {
		t.Fatalf("%d", o.HTTPStatus)
	}
	if !d.purge[0].IsZero() {
		t.Errorf("purge deadline %v; want none", d.purge[0])
	}
}

// The caller's own deadline, when sooner, bounds every step.
func TestCallersDeadlineBounds(t *testing.T) {
	d := &deadlines{}
	p := New(Config{Planner: onePlan{}, Purger: d, Dedupe: d, Deadline: time.Hour, PurgeTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	want, _ := ctx.Deadline()
	p.Handle(ctx, hook("e1", "p1"))
	if len(d.purge) != 1 || d.purge[0].After(want) || d.seen[0].After(want) {
		t.Errorf("purge deadline %v, check %v; want none after the caller's %v", d.purge, d.seen, want)
	}
}

// With a cut-off, as the server has, the purge keeps its bound and ends
// with the cut-off too.
func TestPurgeFollowsCutoff(t *testing.T) {
	d := &deadlines{}
	cutoff, cut := context.WithCancel(context.Background())
	defer cut()
	p := New(Config{Planner: onePlan{}, Purger: d, Dedupe: d, Deadline: 10 * time.Second, PurgeTimeout: 3 * time.Second})
	before := time.Now()
	p.Handle(cutoff, hook("e1", "p1"))
	after := time.Now()
	if got := d.purge[0]; got.Before(before.Add(3*time.Second)) || got.After(after.Add(3*time.Second)) {
		t.Errorf("purge deadline %v after the start; want 3s", got.Sub(before))
	}
	cut()
	cp := New(Config{Planner: onePlan{}, Purger: ctxBackends{}, Deadline: 10 * time.Second})
	if o := cp.Handle(cutoff, hook("e2", "p1")); o.Answer.Status != chain.StatusFailed {
		t.Errorf("a purge after the cut-off: %s", o.Answer.Status)
	}
}

// valueKey is a context key of the test's own.
type valueKey struct{}

// values records whether each step's context carries the caller's value.
type values struct{ deadlines }

func (v *values) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *chain.Answer) {
	if ctx.Value(valueKey{}) == nil {
		v.note(&v.purge, ctx) // a purge without the value is noted
	}
	*a = chain.Answer{ID: id, Plan: *p, Status: chain.StatusPurged}
}

func (v *values) Seen(ctx context.Context, _ string) (bool, error) {
	if ctx.Value(valueKey{}) == nil {
		v.note(&v.seen, ctx)
	}
	return false, nil
}

// Every step's context carries the caller's values (a request's trace,
// say), with a cut-off and without.
func TestStepsKeepCallersValues(t *testing.T) {
	cutoff, cut := context.WithCancel(context.Background())
	defer cut()
	for _, c := range []context.Context{context.Background(), cutoff} {
		v := &values{}
		p := New(Config{Planner: onePlan{}, Purger: v, Dedupe: v, Deadline: 10 * time.Second, PurgeTimeout: 3 * time.Second})
		p.Handle(context.WithValue(c, valueKey{}, "trace"), hook("e1", "p1"))
		if len(v.purge) != 0 || len(v.seen) != 0 {
			t.Errorf("cut-off %v: %d purges and %d duplicate checks without the caller's value", c != context.Background(), len(v.purge), len(v.seen))
		}
	}
}
