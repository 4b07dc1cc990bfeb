package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// A batch that keeps failing goes back to the head of the queue with a
// growing attempt count until it succeeds.
func TestRequeueCountsAttempts(t *testing.T) {
	boom := errors.New("HTTP 500")
	r := &recorder{err: func(call int) error {
		if call <= 3 {
			return boom
		}
		return nil
	}}
	var mu sync.Mutex
	var attempts []int
	q := New(Options{
		MaxItems: 10, MaxInflight: 1, Flush: r.flush,
		Requeue: func(err error, attempt int) (bool, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, attempt)
			return true, time.Millisecond
		},
	})
	out := q.Do(context.Background(), []string{"a", "b"})
	if out.Err != nil || out.Done != 2 || out.Calls != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Equal(attempts, []int{1, 2, 3}) {
		t.Errorf("attempts %v, want [1 2 3]", attempts)
	}
	if got := r.snapshot(); len(got) != 4 || !slices.Equal(got[3], []string{"a", "b"}) {
		t.Errorf("batches %q, want [a b] four times", got)
	}
}

// When the deadline ends the retrying, the caller gets the last failure,
// the attempt count, and Sent: the CDN saw the items.
func TestDeadlineDuringRetryCarriesTheLastFailure(t *testing.T) {
	boom := errors.New("HTTP 500")
	r := &recorder{err: func(int) error { return boom }}
	q := New(Options{
		MaxItems: 10, MaxInflight: 1, Flush: r.flush,
		Requeue: func(error, int) (bool, time.Duration) { return true, 30 * time.Millisecond },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	out := q.Do(ctx, []string{"a"})
	var de *DeadlineError
	if !errors.As(out.Err, &de) || !errors.Is(out.Err, boom) || !errors.Is(out.Err, ErrNotSent) ||
		!errors.Is(out.Err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a DeadlineError wrapping the 500", out.Err)
	}
	if !de.Sent || de.Waiting != 1 || de.Total != 1 || de.Attempts < 2 || de.Attempts > len(r.snapshot()) {
		t.Errorf("deadline error %+v after %d calls", de, len(r.snapshot()))
	}
	// Nobody waits any more: the item is dropped at its next requeue, not
	// sent for nobody.
	waitFor(t, func() bool { return q.Pending() == 0 })
	n := len(r.snapshot())
	time.Sleep(100 * time.Millisecond)
	if len(r.snapshot()) > n+1 {
		t.Errorf("still sending after every waiter left: %d calls, then %d", n, len(r.snapshot()))
	}
}

// A deadline that passes while the items never left the queue is
// back-pressure: Sent is false.
func TestDeadlineBeforeAnySendIsNotSent(t *testing.T) {
	never := func(context.Context, int) (int, time.Duration) { return 0, 20 * time.Millisecond }
	q := New(Options{MaxItems: 10, MaxInflight: 1, Flush: (&recorder{}).flush, Acquire: never})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var de *DeadlineError
	if out := q.Do(ctx, []string{"x", "y"}); !errors.As(out.Err, &de) || de.Sent || de.Last != nil || de.Waiting != 2 {
		t.Fatalf("err = %#v", out.Err)
	}
}

// A caller whose items waited behind a failing batch's backoff learns
// which failure held them up.
func TestDeadlineBehindABackoffNamesTheFailure(t *testing.T) {
	boom := errors.New("HTTP 500")
	r := &recorder{err: func(int) error { return boom }}
	q := New(Options{
		MaxItems: 1, MaxInflight: 1, Flush: r.flush,
		Requeue: func(error, int) (bool, time.Duration) { return true, time.Hour },
	})
	first, cancel1 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel1()
	go q.Do(first, []string{"a"})
	waitFor(t, func() bool { return len(r.snapshot()) == 1 }) // failed, paused for an hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var de *DeadlineError
	out := q.Do(ctx, []string{"b"})
	if !errors.As(out.Err, &de) || de.Sent || de.Last != nil || !errors.Is(de.Blocked, boom) {
		t.Fatalf("err = %#v", out.Err)
	}
}

// Requeue may do I/O (a 429's pause shared through Redis): it runs without
// the queue's lock, so other callers are not held up meanwhile. A Requeue
// that uses the queue itself would deadlock under the lock.
func TestRequeueRunsOutsideTheQueuesLock(t *testing.T) {
	boom := errors.New("HTTP 429")
	r := &recorder{err: func(call int) error {
		if call == 1 {
			return boom
		}
		return nil
	}}
	var q *Queue
	q = New(Options{
		MaxItems: 10, MaxInflight: 1, Flush: r.flush,
		Requeue: func(err error, attempt int) (bool, time.Duration) {
			_ = q.Pending() // takes the lock
			return true, time.Millisecond
		},
	})
	done := make(chan Tally, 1)
	go func() { done <- q.Do(context.Background(), []string{"a"}) }()
	select {
	case out := <-done:
		if out.Err != nil || out.Done != 1 {
			t.Errorf("outcome %+v", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Requeue ran under the queue's lock: deadlock")
	}
}
