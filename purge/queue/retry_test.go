package queue

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/retry"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// reasons records OnRetry's reasons.
type reasons struct {
	mu  sync.Mutex
	got []string
}

func (r *reasons) add(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, reason)
}

func (r *reasons) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	var rs reasons
	p, stub := setup(t, cfstub.Options{}, Config{
		Backoff: retry.Backoff{Initial: 50 * time.Millisecond, Rand: func() float64 { return 0.999 }},
		OnRetry: rs.add,
	})
	stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Count: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: pageURLs(3)})
	if err != nil || res.Items != 3 {
		t.Fatalf("result %+v, err %v", res, err)
	}
	calls := stub.PurgeCalls()
	if len(calls) != 3 || calls[0].Status != 500 || calls[1].Status != 500 || calls[2].Status != 200 {
		t.Fatalf("calls %+v", calls)
	}
	// Nominal waits 50 ms then 100 ms, jittered to at least half.
	if g := calls[1].At.Sub(calls[0].At); g < 25*time.Millisecond {
		t.Errorf("first retry after %v, want ≥ 25ms", g)
	}
	if g := calls[2].At.Sub(calls[1].At); g < 50*time.Millisecond {
		t.Errorf("second retry after %v, want ≥ 50ms", g)
	}
	if got := rs.list(); !slices.Equal(got, []string{retry.ReasonServer, retry.ReasonServer}) {
		t.Errorf("retry reasons %q", got)
	}
}

func TestPermanentRefusalIsNotRetried(t *testing.T) {
	var rs reasons
	p, stub := setup(t, cfstub.Options{}, Config{OnRetry: rs.add})
	stub.SetFailure(cfstub.Failure{Status: 400, Codes: []int{1142}, Message: "Invalid zone"})
	_, err := p.Purge(context.Background(), purge.Request{Zone: zone, URLs: pageURLs(2)})
	pe := purge.AsError(err)
	if pe == nil || pe.Retryable || pe.StatusCode != 400 || !slices.Equal(pe.Codes, []int{1142}) {
		t.Fatalf("err = %v", err)
	}
	if n := len(stub.PurgeCalls()); n != 1 || len(rs.list()) != 0 {
		t.Errorf("%d calls, %d retries: want 1 and 0", n, len(rs.list()))
	}
}

// A CDN that keeps failing: the answer at the deadline is the last
// failure, with its status and codes, retryable, and not Unsent.
func TestDeadlineEndsTheRetryingWithTheLastFailure(t *testing.T) {
	p, stub := setup(t, cfstub.Options{}, Config{Backoff: retry.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	stub.SetFailure(cfstub.Failure{Status: 503, Codes: []int{10000}, Message: "edge on fire"})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: pageURLs(2)})
	pe := purge.AsError(err)
	if pe == nil || !pe.Retryable || pe.Unsent || pe.StatusCode != 503 || !slices.Equal(pe.Codes, []int{10000}) ||
		!strings.Contains(pe.Message, "edge on fire (after ") {
		t.Fatalf("err = %#v", pe)
	}
	if n := len(stub.PurgeCalls()); n < 3 {
		t.Errorf("%d calls in 700ms, want several retries", n)
	}
}

// A CDN that does not answer: the event's deadline ends the wait with a
// retryable failure that is not Unsent (the call may have arrived).
func TestHangingCDNFailsAtTheDeadline(t *testing.T) {
	p, stub := setup(t, cfstub.Options{}, Config{CallTimeout: 10 * time.Second})
	stub.Hang(true)
	t.Cleanup(func() { stub.Hang(false) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Purge(ctx, purge.Request{Zone: zone, URLs: pageURLs(1)})
	pe := purge.AsError(err)
	if pe == nil || !pe.Retryable || pe.Unsent || !strings.Contains(pe.Message, "no answer from the CDN before the deadline") {
		t.Fatalf("err = %#v", pe)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %v, deadline 300ms", took)
	}
}
