package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a Flush that records its batches and can be held open.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	starts  []time.Time
	release chan struct{} // when not nil, Flush waits for it
	err     func(call int) error
}

func (r *recorder) flush(ctx context.Context, items []string) error {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(items))
	r.starts = append(r.starts, time.Now())
	n := len(r.batches)
	rel := r.release
	r.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.err != nil {
		return r.err(n)
	}
	return nil
}

func (r *recorder) snapshot() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition never met")
}

func TestLoneCallerGoesOutAtOnce(t *testing.T) {
	r := &recorder{}
	q := New(Options{MaxItems: 100, MaxInflight: 1, Flush: r.flush})
	out := q.Do(context.Background(), []string{"a", "b"})
	if out.Err != nil || out.Done != 2 || out.Calls != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if got := r.snapshot(); len(got) != 1 || !slices.Equal(got[0], []string{"a", "b"}) {
		t.Errorf("batches %q", got)
	}
}

// An item in flight when a caller arrives is purged again, after the
// caller arrived; an item still waiting is shared.
func TestInflightItemIsPurgedAgainWaitingItemIsShared(t *testing.T) {
	r := &recorder{release: make(chan struct{})}
	q := New(Options{MaxItems: 100, MaxInflight: 1, Flush: r.flush})
	results := make(chan Tally, 3)
	go func() { results <- q.Do(context.Background(), []string{"u"}) }()
	waitFor(t, func() bool { return len(r.snapshot()) == 1 }) // first call in flight
	arrival := time.Now()
	go func() { results <- q.Do(context.Background(), []string{"u"}) }()
	go func() { results <- q.Do(context.Background(), []string{"u", "v"}) }()
	waitFor(t, func() bool { return q.Pending() == 2 }) // u (once) and v wait
	close(r.release)
	coalesced := 0
	for range 3 {
		out := <-results
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		coalesced += out.Coalesced
	}
	got := r.snapshot()
	if len(got) != 2 || !slices.Equal(got[1], []string{"u", "v"}) {
		t.Fatalf("batches %q, want [[u] [u v]]", got)
	}
	if !r.starts[1].After(arrival) {
		t.Error("the second purge of u started before the second caller arrived")
	}
	if coalesced != 1 {
		t.Errorf("coalesced = %d, want 1", coalesced)
	}
}

func TestManyCallersFewCallsNeverOverLimit(t *testing.T) {
	r := &recorder{}
	var flushes atomic.Int32
	flush := func(ctx context.Context, items []string) error {
		flushes.Add(1)
		time.Sleep(5 * time.Millisecond)
		return r.flush(ctx, items)
	}
	q := New(Options{MaxItems: 30, MaxInflight: 2, Flush: flush})
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			items := []string{"same-1", "same-2", fmt.Sprint("own-", i%50)}
			if out := q.Do(context.Background(), items); out.Err != nil || out.Done != 3 {
				t.Errorf("outcome %+v", out)
			}
		})
	}
	wg.Wait()
	for _, b := range r.snapshot() {
		if len(b) > 30 {
			t.Fatalf("batch of %d > limit 30", len(b))
		}
	}
	if n := flushes.Load(); n >= 200 {
		t.Errorf("%d calls for 1000 callers: not coalescing", n)
	}
	t.Logf("1000 callers, %d calls", flushes.Load())
}

func TestAcquireBoundsBatchesAndWaits(t *testing.T) {
	r := &recorder{}
	var mu sync.Mutex
	budget := 5
	acquire := func(_ context.Context, n int) (int, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if budget == 0 {
			budget = 5 // refill after the wait
			return 0, 10 * time.Millisecond
		}
		g := min(n, budget)
		budget -= g
		return g, 0
	}
	q := New(Options{MaxItems: 100, MaxInflight: 4, Flush: r.flush, Acquire: acquire})
	items := make([]string, 12)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	out := q.Do(context.Background(), items)
	if out.Err != nil || out.Done != 12 {
		t.Fatalf("outcome %+v", out)
	}
	for _, b := range r.snapshot() {
		if len(b) > 5 {
			t.Errorf("batch of %d > budget 5", len(b))
		}
	}
}

func TestDeadlineBeforeSendIsAnErrorAndDropsTheItem(t *testing.T) {
	r := &recorder{}
	never := func(context.Context, int) (int, time.Duration) { return 0, 20 * time.Millisecond }
	q := New(Options{MaxItems: 10, MaxInflight: 1, Flush: r.flush, Acquire: never})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	out := q.Do(ctx, []string{"x"})
	if !errors.Is(out.Err, ErrNotSent) || !errors.Is(out.Err, context.DeadlineExceeded) || out.Done != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if q.Pending() != 0 {
		t.Errorf("abandoned item still pending")
	}
	if len(r.snapshot()) != 0 {
		t.Error("an item was sent with no one waiting")
	}
}

func TestFailureReachesEveryWaiter(t *testing.T) {
	boom := errors.New("HTTP 500")
	r := &recorder{err: func(int) error { return boom }}
	q := New(Options{MaxItems: 10, MaxInflight: 1, Flush: r.flush})
	out := q.Do(context.Background(), []string{"a", "b"})
	if !errors.Is(out.Err, boom) || out.Done != 0 || out.Calls != 1 {
		t.Errorf("outcome %+v", out)
	}
}

func TestRequeuePausesThenSucceeds(t *testing.T) {
	throttled := errors.New("429")
	r := &recorder{err: func(call int) error {
		if call == 1 {
			return throttled
		}
		return nil
	}}
	q := New(Options{
		MaxItems: 10, MaxInflight: 1, Flush: r.flush,
		Requeue: func(err error, _ int) (bool, time.Duration) { return errors.Is(err, throttled), 100 * time.Millisecond },
	})
	out := q.Do(context.Background(), []string{"a"})
	if out.Err != nil || out.Done != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if len(r.starts) != 2 || r.starts[1].Sub(r.starts[0]) < 100*time.Millisecond {
		t.Errorf("retry did not wait for the pause: %v", r.starts)
	}
}
