package retry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// script is a purge.Purger answering from a list of errors, one per call
// (nil: success), the last one repeated.
type script struct {
	mu    sync.Mutex
	errs  []error
	calls []time.Time
}

func (s *script) Name() string { return "cdn" }

func (s *script) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, time.Now())
	err := s.errs[min(len(s.calls), len(s.errs))-1]
	if err != nil {
		return purge.Result{Calls: 1}, err
	}
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

var (
	err500 = &purge.Error{Op: "purge 1 urls", StatusCode: 500, Codes: []int{10000}, Message: "boom", Retryable: true}
	err403 = &purge.Error{Op: "purge 1 urls", StatusCode: 403, Codes: []int{10000}, Message: "Authentication error"}
	req    = purge.Request{Zone: "z", URLs: []string{"https://a/"}}
)

func fast() Backoff {
	return Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}
}

func TestTransientFailuresAreRetriedUntilSuccess(t *testing.T) {
	s := &script{errs: []error{err500, err500, nil}}
	var reasons []string
	p := New(Config{Next: s, Backoff: fast(), OnRetry: func(r string) { reasons = append(reasons, r) }})
	res, err := p.Purge(context.Background(), req)
	if err != nil || res.Items != 1 || res.Calls != 3 {
		t.Fatalf("res %+v err %v, want 1 item in 3 calls", res, err)
	}
	if len(reasons) != 2 || reasons[0] != ReasonServer || reasons[1] != ReasonServer {
		t.Errorf("retry reasons %q, want [5xx 5xx]", reasons)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	s := &script{errs: []error{err403, nil}}
	p := New(Config{Next: s, Backoff: fast()})
	_, err := p.Purge(context.Background(), req)
	if pe := purge.AsError(err); pe != err403 {
		t.Fatalf("err = %v, want the 403 as it is", err)
	}
	if len(s.calls) != 1 {
		t.Errorf("%d calls, want 1", len(s.calls))
	}
}

func TestUnknownErrorIsNotRetried(t *testing.T) {
	s := &script{errs: []error{errors.New("what"), nil}}
	p := New(Config{Next: s, Backoff: fast()})
	if _, err := p.Purge(context.Background(), req); err == nil || len(s.calls) != 1 {
		t.Fatalf("err %v after %d calls, want the error after 1", err, len(s.calls))
	}
}

func TestRetryAfterIsWaited(t *testing.T) {
	throttled := &purge.Error{Op: "purge", StatusCode: 429, Retryable: true, RetryAfter: 300 * time.Millisecond}
	s := &script{errs: []error{throttled, nil}}
	var reasons []string
	p := New(Config{Next: s, Backoff: fast(), OnRetry: func(r string) { reasons = append(reasons, r) }})
	if _, err := p.Purge(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if gap := s.calls[1].Sub(s.calls[0]); gap < 300*time.Millisecond {
		t.Errorf("retried after %v, before the Retry-After of 300ms", gap)
	}
	if len(reasons) != 1 || reasons[0] != ReasonThrottled {
		t.Errorf("reasons %q", reasons)
	}
}

// The retrying stops at the deadline, with the last failure, retryable,
// saying how many attempts were made; no attempt starts that could not
// end before the deadline.
func TestRetryingStopsAtTheDeadline(t *testing.T) {
	s := &script{errs: []error{err500}}
	p := New(Config{Next: s, Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := p.Purge(ctx, req)
	took := time.Since(start)
	pe := purge.AsError(err)
	if pe == nil || !pe.Retryable || pe.StatusCode != 500 || pe.Codes[0] != 10000 || !strings.Contains(pe.Message, "boom (after ") {
		t.Fatalf("err = %v, want the last 500 with the attempt count", err)
	}
	if took > 600*time.Millisecond {
		t.Errorf("returned after %v, past the 500ms deadline", took)
	}
	if len(s.calls) < 3 || res.Calls != len(s.calls) {
		t.Errorf("%d calls (result says %d), want several", len(s.calls), res.Calls)
	}
	if !strings.Contains(pe.Message, "after the deadline") && !strings.Contains(pe.Message, "deadline passed") {
		t.Errorf("message does not say why it stopped: %q", pe.Message)
	}
}

func TestNoRetryWhenTheBackoffOutlivesTheDeadline(t *testing.T) {
	throttled := &purge.Error{Op: "purge", StatusCode: 429, Retryable: true, RetryAfter: time.Minute}
	s := &script{errs: []error{throttled, nil}}
	p := New(Config{Next: s, Backoff: fast()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := p.Purge(ctx, req)
	if purge.AsError(err) != throttled || len(s.calls) != 1 || time.Since(start) > 500*time.Millisecond {
		t.Errorf("err %v after %d calls in %v: want the 429 at once", err, len(s.calls), time.Since(start))
	}
}
