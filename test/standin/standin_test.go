package standin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// call is the record type of the tests.
type call struct {
	at     time.Time
	path   string
	status int
}

// failure is the injected-failure type of the tests.
type failure struct{ status int }

type core = Core[call, failure, string]

func newCore(latency time.Duration) *core {
	return New[call, failure, string](Config[call]{
		Name:    "teststub",
		Latency: latency,
		Arrived: func(c call) time.Time { return c.at },
		Status:  func(c call) int { return c.status },
	})
}

// handler holds every call with Hold, then answers 204 and records it.
func handler(c *core) http.Handler {
	return c.Track(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := call{at: time.Now(), path: r.URL.Path}
		c.Hold(r, rec)
		if f, failed := c.Failure(); failed {
			rec.status = f.status
		} else {
			rec.status = http.StatusNoContent
		}
		w.WriteHeader(rec.status)
		c.Record(rec)
	}))
}

func start(t *testing.T, c *core) string {
	t.Helper()
	root, err := c.Start(handler(c))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if !strings.HasPrefix(root, "http://127.0.0.1:") {
		t.Fatalf("root %q is not a loopback URL", root)
	}
	t.Cleanup(c.Close)
	return root
}

func get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// waitFor polls cond until it holds or a second passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestServesAndRecordsInOrder(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	for _, p := range []string{"/a", "/b", "/c"} {
		if st, err := get(context.Background(), root+p); err != nil || st != http.StatusNoContent {
			t.Fatalf("GET %s: %d, %v", p, st, err)
		}
	}
	var paths []string
	for _, r := range c.Calls() {
		paths = append(paths, r.path)
	}
	if got := strings.Join(paths, " "); got != "/a /b /c" {
		t.Errorf("calls %q, want /a /b /c", got)
	}
	if got := c.CallsWhere(func(r call) bool { return r.path == "/b" }); len(got) != 1 {
		t.Errorf("CallsWhere /b: %v", got)
	}
	if got := c.CallsWhere(func(call) bool { return false }); got != nil {
		t.Errorf("CallsWhere nothing: %v, want nil", got)
	}
}

func TestCallsSortedByArrival(t *testing.T) {
	c := newCore(0)
	t0 := time.Now()
	c.Record(call{at: t0.Add(2 * time.Second), path: "late"})
	c.Record(call{at: t0, path: "early"})
	c.Record(call{at: t0.Add(2 * time.Second), path: "late2"})
	got := c.Calls()
	if got[0].path != "early" || got[1].path != "late" || got[2].path != "late2" {
		t.Errorf("calls %v, want early, late, late2 (stable)", got)
	}
}

func TestCloseBeforeStartAndTwice(t *testing.T) {
	c := newCore(0)
	c.Close() // nothing served yet
	c.Close()
}

func TestFailureCountClearsItself(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	c.SetFailure(failure{status: http.StatusServiceUnavailable}, 2)
	var got []int
	for range 3 {
		st, err := get(context.Background(), root+"/")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st)
	}
	if got[0] != 503 || got[1] != 503 || got[2] != 204 {
		t.Errorf("statuses %v, want 503 503 204", got)
	}
}

func TestFailureUntilCleared(t *testing.T) {
	c := newCore(0)
	c.SetFailure(failure{status: http.StatusTooManyRequests}, 0)
	for range 3 {
		if f, ok := c.Failure(); !ok || f.status != 429 {
			t.Fatalf("Failure() = %v, %v", f, ok)
		}
	}
	c.ClearFailure()
	if _, ok := c.Failure(); ok {
		t.Fatal("failure still set after ClearFailure")
	}
}

func TestThrottledCounts429(t *testing.T) {
	c := newCore(0)
	c.Record(call{status: 429})
	c.Record(call{status: 200})
	c.Record(call{status: 429})
	if got := c.Throttled(); got != 2 {
		t.Errorf("Throttled = %d, want 2", got)
	}
}

func TestHangHoldsUntilReleased(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	c.Hang(true)
	c.Hang(true) // idempotent
	done := make(chan int, 1)
	go func() {
		st, _ := get(context.Background(), root+"/")
		done <- st
	}()
	waitFor(t, "a held call", func() bool { return c.Waiting() == 1 })
	select {
	case <-done:
		t.Fatal("answered while hanging")
	case <-time.After(20 * time.Millisecond):
	}
	c.Hang(false)
	if st := <-done; st != http.StatusNoContent {
		t.Errorf("status %d after release, want 204", st)
	}
	waitFor(t, "no held call", func() bool { return c.Waiting() == 0 })
}

func TestGivingUpDropsAndRecordsUnanswered(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	c.Hang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := get(ctx, root+"/gave-up"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	waitFor(t, "the call's record", func() bool { return len(c.Calls()) == 1 })
	if r := c.Calls()[0]; r.path != "/gave-up" || r.status != 0 {
		t.Errorf("record %+v, want /gave-up unanswered", r)
	}
}

func TestCloseReleasesHeldCalls(t *testing.T) {
	c := newCore(time.Hour)
	root := start(t, c)
	errs := make(chan error, 1)
	go func() {
		_, err := get(context.Background(), root+"/")
		errs <- err
	}()
	waitFor(t, "a held call", func() bool { return c.Waiting() == 1 })
	c.Close()
	if err := <-errs; err == nil {
		t.Error("call answered, want the connection dropped")
	}
}

func TestLatencyDelaysAndReset(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	c.SetLatency(60 * time.Millisecond)
	t0 := time.Now()
	if _, err := get(context.Background(), root+"/"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 60*time.Millisecond {
		t.Errorf("answered after %v, want at least 60ms", d)
	}
	c.Hang(true)
	c.SetFailure(failure{status: 500}, 0)
	c.MarkPurged("svc", []string{"x"}, time.Now())
	c.Record(call{status: 429})
	hookRan := false
	c.Reset(func() { hookRan = true })
	if !hookRan {
		t.Error("Reset did not run its hook")
	}
	c.Lock()
	left := c.latency != 0 || c.hang != nil || c.failure != nil
	c.Unlock()
	if left {
		t.Error("Reset left latency, hang or failure")
	}
	if len(c.Calls()) != 0 || c.Throttled() != 0 || c.Purged("svc") != nil {
		t.Error("Reset left calls, throttled or purges")
	}
	c.Reset(nil)
}

func TestPeakInFlight(t *testing.T) {
	c := newCore(0)
	root := start(t, c)
	c.Hang(true)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = get(context.Background(), root+"/") })
	}
	waitFor(t, "three held calls", func() bool { return c.Waiting() == 3 })
	if got := c.PeakInFlight(); got != 3 {
		t.Errorf("PeakInFlight = %d, want 3", got)
	}
	c.Reset(nil) // releases the hang; peak restarts from the calls in flight
	wg.Wait()
	if got := c.PeakInFlight(); got > 3 {
		t.Errorf("PeakInFlight after Reset = %d, want at most 3", got)
	}
	c.Reset(nil)
	if got := c.PeakInFlight(); got != 0 {
		t.Errorf("PeakInFlight with nothing in flight = %d, want 0", got)
	}
}

func TestPurged(t *testing.T) {
	c := newCore(0)
	t1, t2 := time.Unix(100, 0), time.Unix(200, 0)
	c.MarkPurged("a", []string{"x", "y"}, t1)
	c.MarkPurged("a", []string{"y"}, t2)
	got := c.Purged("a")
	if len(got) != 2 || !got["x"].Equal(t1) || !got["y"].Equal(t2) {
		t.Errorf("Purged(a) = %v", got)
	}
	got["z"] = t1 // a copy
	if _, ok := c.Purged("a")["z"]; ok {
		t.Error("Purged returned the live map")
	}
	if c.Purged("b") != nil {
		t.Error("Purged(b) not nil")
	}
}

func TestSet(t *testing.T) {
	s := SetOf([]string{"a", "b"})
	if !s["a"] || s["c"] || !s.Known("b") || s.Known("c") {
		t.Errorf("set %v", s)
	}
	if !SetOf(nil).Known("anything") {
		t.Error("empty set does not know everything")
	}
}
