package fastlystub

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestKeyLimitPerCall(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	over := purgeKeys(t, base, keys(257)...)
	at := purgeKeys(t, base, keys(256)...)

	// Fastly's answer as reported in fastly/fastly-magento2#104.
	want := `{"status":"fail","reason":"Batch surrogate key request only supports up to 256 surrogate keys"}`
	if over.status != http.StatusBadRequest || over.raw != want {
		t.Errorf("257 keys: status %d body %s, want 400 %s", over.status, over.raw, want)
	}
	if at.status != http.StatusOK {
		t.Errorf("256 keys: status %d", at.status)
	}
	if got := len(s.Purged(testService)); got != 256 {
		t.Errorf("purged %d keys, want 256", got)
	}
	if c := s.PurgeCalls()[0]; c.Status != 400 || len(c.Items) != 257 {
		t.Errorf("oversized call recorded as %d items, status %d", len(c.Items), c.Status)
	}
}

func TestCustomKeyLimit(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, MaxKeysPerCall: 3})

	if r := purgeKeys(t, base, keys(4)...); r.status != http.StatusBadRequest {
		t.Errorf("4 keys: status %d, want 400", r.status)
	}
	if r := purgeKeys(t, base, keys(3)...); r.status != http.StatusOK {
		t.Errorf("3 keys: status %d, want 200", r.status)
	}
}

// A slow refill keeps the test free of timing: one call short at 0.001
// calls/s is 1000 s.
func TestBucketThrottlesWithFastlyHeaders(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, PurgeRate: 0.001, PurgeBurst: 2})

	first := purgeKeys(t, base, "a")
	second := do(t, http.MethodPost, base+"/purge/"+testHost+"/x", "", nil)
	began := time.Now()
	third := do(t, http.MethodPost, base+"/service/"+testService+"/purge_all", "", nil)

	if first.status != 200 || second.status != 200 {
		t.Fatalf("statuses %d %d, want 200 200", first.status, second.status)
	}
	if first.header.Get(HeaderRateLimitRemaining) != "1" || second.header.Get(HeaderRateLimitRemaining) != "0" {
		t.Errorf("remaining = %q, %q, want 1, 0", first.header.Get(HeaderRateLimitRemaining), second.header.Get(HeaderRateLimitRemaining))
	}
	if third.status != http.StatusTooManyRequests {
		t.Fatalf("third: status %d, want 429", third.status)
	}
	var e errorBody
	third.json(t, &e)
	if e.Msg != MsgRateLimited {
		t.Errorf("body = %s", third.raw)
	}
	if got := third.header.Get(HeaderRateLimitRemaining); got != "0" {
		t.Errorf("Remaining = %q, want 0", got)
	}
	reset, err := strconv.ParseInt(third.header.Get(HeaderRateLimitReset), 10, 64)
	if wait := time.Unix(reset, 0).Sub(began); err != nil || wait < 998*time.Second || wait > 1001*time.Second {
		t.Errorf("Reset = %q, want about now+1000s", third.header.Get(HeaderRateLimitReset))
	}
	if ra := third.header.Get("Retry-After"); ra != "1000" {
		t.Errorf("Retry-After = %q, want 1000", ra)
	}
	if s.Throttled() != 1 {
		t.Errorf("Throttled = %d, want 1", s.Throttled())
	}
	if _, ok := s.Purged(testService)[AllItem]; ok {
		t.Error("throttled call purged")
	}
	// Reads are not limited.
	if r := do(t, http.MethodGet, base+"/tokens/self", "", nil); r.status != 200 {
		t.Errorf("read while throttled: status %d", r.status)
	}
}

func TestOmitRetryAfter(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, PurgeRate: 0.001, PurgeBurst: 1, OmitRetryAfter: true})

	purgeKeys(t, base, "a")
	r := purgeKeys(t, base, "b")

	if r.status != 429 || r.header.Get("Retry-After") != "" || r.header.Get(HeaderRateLimitReset) == "" {
		t.Errorf("status %d headers %v, want 429 with the reset header only", r.status, r.header)
	}
}

// One call a second: the second call, sent at once, finds the bucket
// empty even on a loaded machine (it would need a second's delay to pass),
// and the third, a second later, finds it refilled.
func TestBucketRefills(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, PurgeRate: 1, PurgeBurst: 1})

	a := purgeKeys(t, base, "a")
	b := purgeKeys(t, base, "b")
	time.Sleep(1100 * time.Millisecond)
	c := purgeKeys(t, base, "c")

	if a.status != 200 || b.status != 429 || c.status != 200 {
		t.Errorf("statuses %d %d %d, want 200 429 200", a.status, b.status, c.status)
	}
}

func TestUnauthenticatedCallsSpendNothing(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, PurgeRate: 0.001, PurgeBurst: 1})

	for range 3 {
		if _, err := send(t.Context(), http.MethodPost, base+"/service/"+testService+"/purge_all", "bad", "", nil); err != nil {
			t.Fatal(err)
		}
	}

	if r := purgeKeys(t, base, "a"); r.status != 200 {
		t.Errorf("status %d, want 200: refused calls spent the budget", r.status)
	}
}
