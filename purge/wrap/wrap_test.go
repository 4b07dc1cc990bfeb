package wrap

import (
	"context"
	"slices"
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

// retrying is a queue that sends each event's items at once and retries
// transient failures quickly.
func retrying() *queue.Config {
	return &queue.Config{MaxURLsPerCall: 100, MaxItemsPerCall: 100, MaxInflight: 1, CallTimeout: time.Second, Backoff: fast}
}

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
		Queue:   retrying(),
	})
	if s.Breaker == nil || s.Purger != purge.Purger(s.Breaker) {
		t.Fatalf("the breaker is not the outermost layer: %#v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Two transient failures are retried inside the breaker: the event
	// succeeds, and the breaker (which opens after one failed purge) saw
	// no failure at all.
	res, err := s.Purger.Purge(ctx, purge.Request{Zone: "z", URLs: []string{"https://a.test/"}})
	if err != nil || res.Items != 1 || cdn.count() != 3 {
		t.Fatalf("purge: %+v, %v after %d calls; want success after 3", res, err, cdn.count())
	}
	if st := s.Breaker.State(); st != breaker.Closed {
		t.Errorf("breaker %v after a purge its retries saved, want closed", st)
	}
}

func TestQueueCoalescesAndRetries(t *testing.T) {
	cdn := &flakyCDN{failures: 1}
	s := Build(cdn, Layers{Queue: retrying()})
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

// nodesCDN is a NodePurger of two nodes, the second of which refuses.
type nodesCDN struct{}

func (nodesCDN) Name() string { return "varnish" }

func (n nodesCDN) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	res, _, err := n.PurgeNodes(ctx, req)
	return res, err
}

func (nodesCDN) PurgeNodes(_ context.Context, req purge.Request) (purge.Result, []purge.NodeResult, error) {
	bad := &purge.Error{Op: "PURGE", Message: "connection refused", Retryable: true}
	return purge.Result{Calls: 2}, []purge.NodeResult{{Node: "http://a", Calls: 1}, {Node: "http://b", Calls: 1, Err: bad}}, bad
}

func TestCallsAreToldEachCallByTarget(t *testing.T) {
	type seen struct {
		target string
		ok     bool
	}
	var mu sync.Mutex
	var got []seen
	record := func(target string, _ purge.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{target, err == nil})
	}
	cdn := &flakyCDN{failures: 1}
	s := Build(cdn, Layers{Calls: record, Queue: retrying()})
	if _, err := s.Purger.Purge(context.Background(), purge.Request{Zone: "z1", URLs: []string{"https://a/"}}); err != nil {
		t.Fatal(err)
	}
	if want := []seen{{"z1", false}, {"z1", true}}; !slices.Equal(got, want) {
		t.Fatalf("zone calls %v, want %v (each retry is a call)", got, want)
	}

	got = nil
	v := Build(nodesCDN{}, Layers{Calls: record})
	_, _ = v.Purger.Purge(context.Background(), purge.Request{Tags: []string{"t"}})
	if want := []seen{{"http://a", true}, {"http://b", false}}; !slices.Equal(got, want) {
		t.Fatalf("node calls %v, want %v", got, want)
	}

	// Refused by the open breaker: not a call.
	got = nil
	b := Build(&flakyCDN{failures: 100}, Layers{Calls: record, Breaker: &breaker.Config{Failures: 1, Cooldown: time.Minute}})
	for range 3 {
		_, _ = b.Purger.Purge(context.Background(), purge.Request{Zone: "z", URLs: []string{"u"}})
	}
	if len(got) != 1 || got[0].ok {
		t.Fatalf("calls behind an open breaker: %v, want the one that opened it", got)
	}
}
