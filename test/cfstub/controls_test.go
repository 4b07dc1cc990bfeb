package cfstub

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestFailureCountsDownThenClears(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 500, Codes: []int{10000}, Message: "Internal error", Count: 2, RetryAfter: 1500 * time.Millisecond})

	r1 := purge(t, base, testZone, `{"tags":["a"]}`)
	r2 := purge(t, base, testZone, `{"tags":["b"]}`)
	r3 := purge(t, base, testZone, `{"tags":["c"]}`)

	want := `{"success":false,"errors":[{"code":10000,"message":"Internal error"}],"messages":[],"result":null}`
	for i, r := range []reply{r1, r2} {
		if r.status != 500 || r.raw != want {
			t.Errorf("call %d: status %d body %s", i+1, r.status, r.raw)
		}
		if ra := r.header.Get("Retry-After"); ra != "2" {
			t.Errorf("call %d: Retry-After = %q, want 2 (rounded up)", i+1, ra)
		}
	}
	if r3.status != 200 {
		t.Errorf("third call: status %d, want 200", r3.status)
	}
	purged := s.Purged(testZone, KindTags)
	if _, ok := purged["c"]; len(purged) != 1 || !ok {
		t.Errorf("purged = %v, want only c", purged)
	}
	calls := s.PurgeCalls()
	if len(calls) != 3 || calls[0].Status != 500 || !slices.Equal(calls[0].Codes, []int{10000}) || !slices.Equal(calls[0].Items, []string{"a"}) {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFailureWithStatus200IsUnsuccessfulEnvelope(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 200, Codes: []int{1100, CodePurgeErrors}, Message: "Tag exceeds maximum length"})

	r := purge(t, base, testZone, `{"tags":["a"]}`)

	if r.status != 200 || r.env.Success || !slices.Equal(r.codes(), []int{1100, CodePurgeErrors}) {
		t.Errorf("status %d body %s", r.status, r.raw)
	}
	s.ClearFailure()
	if r := purge(t, base, testZone, `{"tags":["a"]}`); !r.env.Success {
		t.Errorf("after ClearFailure: %s", r.raw)
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := call(t, ctx, http.MethodPost, base+"zones/"+testZone+"/purge_cache", "Bearer "+testToken, `{"tags":["a"]}`)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The stand-in records the abandoned call once it notices the client left.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.PurgeCalls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if calls := s.PurgeCalls(); len(calls) != 1 || calls[0].Status != 0 || calls[0].Kind != KindTags {
		t.Errorf("calls = %+v, want one unanswered tags call", calls)
	}
	if len(s.Purged(testZone, KindTags)) != 0 {
		t.Error("hung call purged")
	}

	s.Hang(false)
	if r := purge(t, base, testZone, `{"tags":["a"]}`); r.status != 200 {
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
		r, err := call(t, context.Background(), http.MethodPost, base+"zones/"+testZone+"/purge_cache", "Bearer "+testToken, `{"tags":["a"]}`)
		done <- outcome{r, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.Waiting() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Hang(false)

	if o := <-done; o.err != nil || o.r.status != 200 {
		t.Errorf("released call: status %d, err %v", o.r.status, o.err)
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Latency: 30 * time.Millisecond})

	began := time.Now()
	purge(t, base, testZone, `{"tags":["a"]}`)
	if d := time.Since(began); d < 30*time.Millisecond {
		t.Errorf("answered after %v, want at least 30ms", d)
	}

	s.SetLatency(80 * time.Millisecond)
	began = time.Now()
	purge(t, base, testZone, `{"tags":["a"]}`)
	if d := time.Since(began); d < 80*time.Millisecond {
		t.Errorf("answered after %v, want at least 80ms", d)
	}
}

func TestCloseReleasesHangingCalls(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.Hang(true)

	errc := make(chan error)
	go func() {
		_, err := call(t, context.Background(), http.MethodPost, base+"zones/"+testZone+"/purge_cache", "Bearer "+testToken, `{"tags":["a"]}`)
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.Waiting() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()

	if err := <-errc; err == nil {
		t.Error("hanging call answered after Close, want a connection error")
	}
}

func TestResetForgetsEverything(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, URLRate: 0.001, URLBurst: 1})
	purge(t, base, testZone, filesBody(1))
	purge(t, base, testZone, filesBody(1))
	s.SetFailure(Failure{Status: 503})

	s.Reset()

	if len(s.Calls()) != 0 || len(s.URLsPurged(testZone)) != 0 || s.Throttled() != 0 {
		t.Errorf("after Reset: %d calls, %d urls, %d throttled", len(s.Calls()), len(s.URLsPurged(testZone)), s.Throttled())
	}
	if r := purge(t, base, testZone, filesBody(1)); r.status != 200 {
		t.Errorf("after Reset: status %d, want 200 (bucket refilled, failure cleared)", r.status)
	}
}
