package fastlystub

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// purge_all spends the token's hourly API budget and says so in Fastly's
// headers, the reset at the top of the hour; over it, 429 with the same
// headers. URL and key purges spend nothing and carry no such headers.
func TestPurgeAllSpendsTheHourlyBudget(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, APIPerHour: 2})
	purgeAll := func() reply { return do(t, http.MethodPost, base+"/service/"+testService+"/purge_all", "", nil) }

	began := time.Now()
	first, second, third := purgeAll(), purgeAll(), purgeAll()
	key := purgeKeys(t, base, "a")
	url := do(t, http.MethodPost, base+"/purge/"+testHost+"/x", "", nil)

	if first.status != 200 || second.status != 200 || third.status != http.StatusTooManyRequests {
		t.Fatalf("purge_all statuses %d %d %d, want 200 200 429", first.status, second.status, third.status)
	}
	for i, r := range []reply{first, second, third} {
		if got, want := r.header.Get(HeaderRateLimitRemaining), strconv.Itoa(max(0, 1-i)); got != want {
			t.Errorf("purge_all %d: Remaining %q, want %q", i+1, got, want)
		}
		reset, err := strconv.ParseInt(r.header.Get(HeaderRateLimitReset), 10, 64)
		if top := began.Truncate(time.Hour).Add(time.Hour).Unix(); err != nil || reset < top || reset > top+3600 {
			t.Errorf("purge_all %d: Reset %q, want the top of the hour (%d)", i+1, r.header.Get(HeaderRateLimitReset), top)
		}
	}
	if third.header.Get("Retry-After") != "" {
		t.Errorf("429 of the hourly budget carries Retry-After %q; Fastly documents only its own headers", third.header.Get("Retry-After"))
	}
	for name, r := range map[string]reply{"key": key, "url": url} {
		if r.status != 200 || r.header.Get(HeaderRateLimitRemaining) != "" || r.header.Get(HeaderRateLimitReset) != "" {
			t.Errorf("%s purge after the hour was spent: status %d, headers %v; want 200 without rate-limit headers", name, r.status, r.header)
		}
	}
	if _, ok := s.Purged(testService)["a"]; !ok {
		t.Error("the key purge did not purge")
	}
}

// Another tool of the same user spent the hour: purge_all waits for the
// reset the stand-in was given.
func TestSetAPIWindow(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	reset := time.Now().Add(42 * time.Minute)
	s.SetAPIWindow(testToken, 0, reset)

	r := do(t, http.MethodPost, base+"/service/"+testService+"/purge_all", "", nil)

	if r.status != http.StatusTooManyRequests || r.header.Get(HeaderRateLimitReset) != strconv.FormatInt(ceilUnix(reset), 10) {
		t.Errorf("status %d, Reset %q; want 429 and %d", r.status, r.header.Get(HeaderRateLimitReset), ceilUnix(reset))
	}
	s.Reset()
	if r := do(t, http.MethodPost, base+"/service/"+testService+"/purge_all", "", nil); r.status != 200 || r.header.Get(HeaderRateLimitRemaining) != strconv.Itoa(DefaultAPIPerHour-1) {
		t.Errorf("after Reset: status %d Remaining %q, want 200 and %d", r.status, r.header.Get(HeaderRateLimitRemaining), DefaultAPIPerHour-1)
	}
}
