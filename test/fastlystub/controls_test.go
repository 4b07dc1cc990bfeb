package fastlystub

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestFailureCountsDownThenClears(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 503, Count: 2, RetryAfter: 1500 * time.Millisecond})

	r1 := purgeKeys(t, base, "a")
	// Injected failures come before authentication, as an outage would.
	r2, err := send(context.Background(), http.MethodGet, base+"/tokens/self", "bad", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r3 := purgeKeys(t, base, "c")

	for i, r := range []reply{r1, r2} {
		if r.status != 503 || r.raw != `{"msg":"Service Unavailable"}` {
			t.Errorf("call %d: status %d body %s", i+1, r.status, r.raw)
		}
		if ra := r.header.Get("Retry-After"); ra != "2" {
			t.Errorf("call %d: Retry-After = %q, want 2 (rounded up)", i+1, ra)
		}
	}
	if r3.status != 200 {
		t.Errorf("third call: status %d, want 200", r3.status)
	}
	if purged := s.Purged(testService); len(purged) != 1 {
		t.Errorf("purged = %v, want only c", purged)
	}
	if calls := s.Calls(); len(calls) != 3 || calls[0].Status != 503 || calls[0].Kind != KindKeys {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFailureWithMessageAndRateLimitReset(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 429, Msg: "slow down", Detail: "too many", RateLimitReset: 30 * time.Second})

	began := time.Now()
	r := purgeKeys(t, base, "a")

	if r.status != 429 || r.raw != `{"msg":"slow down","detail":"too many"}` || r.header.Get("Retry-After") != "" {
		t.Errorf("status %d body %s headers %v", r.status, r.raw, r.header)
	}
	reset, _ := strconv.ParseInt(r.header.Get(HeaderRateLimitReset), 10, 64)
	if wait := time.Unix(reset, 0).Sub(began); r.header.Get(HeaderRateLimitRemaining) != "0" || wait < 29*time.Second || wait > 31*time.Second {
		t.Errorf("rate-limit headers %v", r.header)
	}
	if s.Throttled() != 1 {
		t.Errorf("Throttled = %d", s.Throttled())
	}
	s.ClearFailure()
	if r := purgeKeys(t, base, "a"); r.status != 200 {
		t.Errorf("after ClearFailure: status %d", r.status)
	}
}

func TestFailureWithRawBody(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 502, Body: "<html><body>Bad Gateway</body></html>"})

	r := purgeKeys(t, base, "a")

	if r.status != 502 || r.raw != "<html><body>Bad Gateway</body></html>" || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("status %d body %s type %q", r.status, r.raw, r.header.Get("Content-Type"))
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := send(ctx, http.MethodPost, base+"/service/"+testService+"/purge", testToken, `{"surrogate_keys":["a"]}`, nil)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The stand-in records the abandoned call once it notices the client left.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.PurgeCalls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if calls := s.PurgeCalls(); len(calls) != 1 || calls[0].Status != 0 || calls[0].Kind != KindKeys {
		t.Errorf("calls = %+v, want one unanswered keys call", calls)
	}
	if len(s.Purged(testService)) != 0 {
		t.Error("hung call purged")
	}

	s.Hang(false)
	if r := purgeKeys(t, base, "a"); r.status != 200 {
		t.Errorf("after Hang(false): status %d", r.status)
	}
}

func TestHangReleasedByHangFalse(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	type outcome struct {
		r   reply
		err error
	}
	done := make(chan outcome)
	go func() {
		r, err := send(context.Background(), http.MethodPost, base+"/service/"+testService+"/purge_all", testToken, "", nil)
		done <- outcome{r, err}
	}()
	waitFor(t, func() bool { return s.Waiting() == 1 })
	s.Hang(false)

	if o := <-done; o.err != nil || o.r.status != 200 {
		t.Errorf("released call: status %d, err %v", o.r.status, o.err)
	}
}

func TestCloseReleasesHangingCalls(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	errc := make(chan error)
	go func() {
		_, err := send(context.Background(), http.MethodPost, base+"/service/"+testService+"/purge_all", testToken, "", nil)
		errc <- err
	}()
	waitFor(t, func() bool { return s.Waiting() == 1 })
	s.Close()

	if err := <-errc; err == nil {
		t.Error("hanging call answered after Close, want a connection error")
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Latency: 30 * time.Millisecond})

	began := time.Now()
	purgeKeys(t, base, "a")
	if d := time.Since(began); d < 30*time.Millisecond {
		t.Errorf("answered after %v, want at least 30ms", d)
	}

	s.SetLatency(80 * time.Millisecond)
	began = time.Now()
	do(t, http.MethodGet, base+"/tokens/self", "", nil)
	if d := time.Since(began); d < 80*time.Millisecond {
		t.Errorf("answered after %v, want at least 80ms", d)
	}
}

func TestPeakInFlight(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	done := make(chan struct{})
	for range 3 {
		go func() {
			_, _ = send(context.Background(), http.MethodPost, base+"/service/"+testService+"/purge_all", testToken, "", nil)
			done <- struct{}{}
		}()
	}
	waitFor(t, func() bool { return s.Waiting() == 3 })
	s.Hang(false)
	for range 3 {
		<-done
	}

	if got := s.PeakInFlight(); got != 3 {
		t.Errorf("PeakInFlight = %d, want 3", got)
	}
	s.Reset()
	if got := s.PeakInFlight(); got != 0 {
		t.Errorf("after Reset: PeakInFlight = %d, want 0", got)
	}
}

func TestResetForgetsEverything(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, PurgeRate: 0.001, PurgeBurst: 1})
	purgeKeys(t, base, "a")
	purgeKeys(t, base, "b")
	s.SetFailure(Failure{Status: 503})
	s.SetLatency(time.Hour)

	s.Reset()

	if len(s.Calls()) != 0 || len(s.Purged(testService)) != 0 || s.Throttled() != 0 {
		t.Errorf("after Reset: %d calls, %d purged, %d throttled", len(s.Calls()), len(s.Purged(testService)), s.Throttled())
	}
	if r := purgeKeys(t, base, "c"); r.status != 200 {
		t.Errorf("after Reset: status %d, want 200 (bucket refilled, failure and latency gone)", r.status)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
