package cfstub

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestItemLimitPerCall(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, MaxItemsPerCall: 3})

	over := purge(t, base, testZone, `{"tags":["a","b","c","d"]}`)
	at := purge(t, base, testZone, `{"tags":["a","b","c"]}`)

	if over.status != http.StatusBadRequest || !slices.Equal(over.codes(), []int{CodeTooManyItems, CodePurgeErrors}) {
		t.Errorf("4 tags: status %d codes %v, want 400 [%d %d]", over.status, over.codes(), CodeTooManyItems, CodePurgeErrors)
	}
	if at.status != http.StatusOK {
		t.Errorf("3 tags: status %d, want 200", at.status)
	}
	if got := len(s.Purged(testZone, KindTags)); got != 3 {
		t.Errorf("purged %d tags, want 3", got)
	}
}

func TestDefaultItemLimitIs100(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}})

	r := purge(t, base, testZone, filesBody(101))

	if r.status != http.StatusBadRequest {
		t.Errorf("101 urls: status %d, want 400", r.status)
	}
	if r := purge(t, base, testZone, filesBody(100)); r.status != http.StatusOK {
		t.Errorf("100 urls: status %d, want 200", r.status)
	}
}

// The URL bucket counts URLs; a slow refill keeps the test free of timing.
func TestURLBucketThrottlesWithRetryAfter(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, URLRate: 0.001, URLBurst: 5})

	first := purge(t, base, testZone, filesBody(5))
	second := purge(t, base, testZone, filesBody(1))

	if first.status != http.StatusOK {
		t.Fatalf("first: status %d", first.status)
	}
	if second.status != http.StatusTooManyRequests || !slices.Equal(second.codes(), []int{CodeRateLimited}) {
		t.Fatalf("second: status %d codes %v, want 429 [971]", second.status, second.codes())
	}
	if msg := second.env.Errors[0].Message; msg != "Please wait and consider throttling your request speed" {
		t.Errorf("message = %q", msg)
	}
	// One URL short at 0.001 URL/s is 1000 s.
	if ra := second.header.Get("Retry-After"); ra != "1000" {
		t.Errorf("Retry-After = %q, want 1000", ra)
	}
	if s.Throttled() != 1 {
		t.Errorf("Throttled = %d, want 1", s.Throttled())
	}
	if got := len(s.URLsPurged(testZone)); got != 5 {
		t.Errorf("purged %d urls, want 5 (throttled call must not purge)", got)
	}
	if calls := s.PurgeCalls(); len(calls) != 2 || calls[1].Status != 429 || calls[1].Kind != KindFiles {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFlexBucketCountsCalls(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, FlexRate: 0.01, FlexBurst: 2})

	a := purge(t, base, testZone, `{"tags":["a","b","c"]}`)
	b := purge(t, base, testZone, `{"hosts":["h.example"]}`)
	c := purge(t, base, testZone, `{"purge_everything":true}`)
	d := purge(t, base, testZone, filesBody(50))

	got := []int{a.status, b.status, c.status, d.status}
	if !slices.Equal(got, []int{200, 200, 429, 200}) {
		t.Errorf("statuses = %v, want [200 200 429 200] (urls use their own bucket)", got)
	}
	if ra := c.header.Get("Retry-After"); ra != "100" {
		t.Errorf("Retry-After = %q, want 100", ra)
	}
	if s.Throttled() != 1 {
		t.Errorf("Throttled = %d", s.Throttled())
	}
}

func TestTooManyItemsCodeIsAnOption(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, MaxItemsPerCall: 1, TooManyItemsCode: 1234})

	over := purge(t, base, testZone, `{"tags":["a","b"]}`)

	if over.status != http.StatusBadRequest || !slices.Equal(over.codes(), []int{1234, CodePurgeErrors}) {
		t.Errorf("2 tags: status %d codes %v, want 400 [1234 %d]", over.status, over.codes(), CodePurgeErrors)
	}
	if !strings.Contains(over.raw, "cannot provide more than 1 items") {
		t.Errorf("body %s lacks the limit", over.raw)
	}
}
