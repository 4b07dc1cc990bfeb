package stack

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/queue"
	"github.com/edgepurge/edgepurge/purge/retry"
)

// flakyCDN fails the first failures calls with a transient 503, then
// accepts everything; it keeps every request it was sent.
type flakyCDN struct {
	mu       sync.Mutex
	failures int
	calls    []purge.Request
}

func (*flakyCDN) Name() string { return "cdn" }

func (c *flakyCDN) Purge(_ context.Context, req purge.Request) (purge.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, req)
	if len(c.calls) <= c.failures {
		return purge.Result{Calls: 1}, &purge.Error{Op: "purge", StatusCode: 503, Retryable: true}
	}
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

func (c *flakyCDN) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

var fast = retry.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Multiplier: 2}

func TestNoLayersIsTheCDNItself(t *testing.T) {
	cdn := &flakyCDN{}
	s := Build(cdn, Layers{})
	if s.Purger != purge.Purger(cdn) || s.Breaker != nil {
		t.Fatalf("Build with no layers = %#v", s)
	}
}

func TestBreakerIsOutermostAndRetriesAreInside(t *testing.T) {
	cdn := &flakyCDN{failures: 2}
	s := Build(cdn, Layers{
		Breaker: &breaker.Config{Failures: 1, Cooldown: time.Minute},
		Retry:   &retry.Config{Backoff: fast},
	})
	if s.Breaker == nil || s.Purger != purge.Purger(s.Breaker) {
		t.Fatalf("the breaker is not the outermost layer: %#v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Two transient failures are retried inside the breaker: the event
	// succeeds, and the breaker (which opens after one failed purge) saw
	// no failure at all.
	res, err := s.Purger.Purge(ctx, purge.Request{URLs: []string{"https://a.test/"}})
	if err != nil || res.Items != 1 || cdn.count() != 3 {
		t.Fatalf("purge: %+v, %v after %d calls; want success after 3", res, err, cdn.count())
	}
	if st := s.Breaker.State(); st != breaker.Closed {
		t.Errorf("breaker %v after a purge its retries saved, want closed", st)
	}
}

func TestQueueReplacesPlainRetries(t *testing.T) {
	cdn := &flakyCDN{failures: 1}
	s := Build(cdn, Layers{
		Queue: &queue.Config{MaxURLsPerCall: 100, MaxItemsPerCall: 100, MaxInflight: 1, CallTimeout: time.Second, Backoff: fast},
		// Ignored: the queue retries by itself, so a plain retry layer
		// would multiply the attempts.
		Retry: &retry.Config{Backoff: fast},
	})
	if _, ok := s.Purger.(*queue.Purger); !ok || s.Breaker != nil {
		t.Fatalf("outermost layer %T, want *queue.Purger", s.Purger)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, u := range []string{"https://a.test/1", "https://a.test/2", "https://a.test/1"} {
		wg.Go(func() {
			if _, err := s.Purger.Purge(ctx, purge.Request{Zone: "z", URLs: []string{u}}); err != nil {
				t.Errorf("purge %s: %v", u, err)
			}
		})
	}
	wg.Wait()
	if n := cdn.count(); n < 2 || n > 4 {
		t.Errorf("%d CDN calls for 3 coalescable events with one transient failure", n)
	}
}
