package cloudflare

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestServerErrorIsRetryable(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal error"})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(30)})

	pe := purgeError(t, err)
	want := "purge 30 urls in zone " + testZone + ": HTTP 500: code 10000: Internal error"
	if pe.Error() != want {
		t.Errorf("err = %q\nwant  %q", pe.Error(), want)
	}
	if !pe.Retryable || pe.StatusCode != 500 || !slices.Equal(pe.Codes, []int{10000}) || pe.RetryAfter != 0 {
		t.Errorf("err = %+v, want retryable 500 [10000]", pe)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("result = %+v, want 0 items in 1 call", res)
	}
	// The SDK must not retry on its own: one call reached the stand-in.
	if n := len(stub.PurgeCalls()); n != 1 {
		t.Errorf("stub saw %d calls, want 1", n)
	}
}

func TestBadTokenIsPermanentAndNotLeaked(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{APIToken: "wrong_token-secret"})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"page:1"}})

	pe := purgeError(t, err)
	want := "purge 1 tags in zone " + testZone + ": HTTP 403: code 9109: Invalid access token; the token is invalid (unknown, expired or revoked): check cloudflare.api_token"
	if pe.Error() != want {
		t.Errorf("err = %q\nwant  %q", pe.Error(), want)
	}
	if pe.Retryable || pe.StatusCode != 403 || !slices.Equal(pe.Codes, []int{cfstub.CodeInvalidAccessToken}) || pe.Permission != "" {
		t.Errorf("err = %+v, want permanent 403 [9109] naming no permission", pe)
	}
	assertNoSecret(t, err.Error())
}

func TestRateLimitedIsRetryableWithRetryAfter(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{URLRate: 0.001, URLBurst: 5})
	p := newPurger(t, base, Config{})
	if _, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(5)}); err != nil {
		t.Fatalf("first purge: %v", err)
	}

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(3)})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.StatusCode != 429 || !slices.Equal(pe.Codes, []int{cfstub.CodeRateLimited}) {
		t.Errorf("err = %+v, want retryable 429 [971]", pe)
	}
	// Three URLs short at 0.001 URL/s.
	if pe.RetryAfter != 3000*time.Second {
		t.Errorf("RetryAfter = %v, want 3000s", pe.RetryAfter)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("result = %+v", res)
	}
	if stub.Throttled() != 1 {
		t.Errorf("stub throttled %d calls, want 1 (no SDK retry)", stub.Throttled())
	}
}

func TestUnknownZoneIsPermanent(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: "nope", Everything: true})

	pe := purgeError(t, err)
	want := "purge everything in zone nope: HTTP 400: code 7003, 7000: Could not route to /zones/nope/purge_cache, perhaps your object identifier is invalid?; No route for that URI"
	if pe.Error() != want {
		t.Errorf("err = %q\nwant  %q", pe.Error(), want)
	}
	if pe.Retryable {
		t.Error("unknown zone is retryable")
	}
}

func TestUnsuccessfulAnswerWithStatus200IsAnError(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(cfstub.Failure{Status: 200, Codes: []int{1100, cfstub.CodePurgeErrors}, Message: "Tag exceeds maximum length"})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"x"}})

	pe := purgeError(t, err)
	if pe.Retryable || pe.StatusCode != 200 || !slices.Equal(pe.Codes, []int{1100, 1016}) {
		t.Errorf("err = %+v, want permanent 200 [1100 1016]", pe)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("result = %+v", res)
	}
}

func TestPartialFailureCountsOnlyAcceptedItems(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{MaxURLsPerCall: 30})
	stub.SetFailure(cfstub.Failure{Status: 502, Codes: []int{10000}, Count: 1})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(60)})

	pe := purgeError(t, err)
	want := "purge 30 urls in zone " + testZone + ": HTTP 502: code 10000: Bad Gateway"
	if pe.Error() != want || !pe.Retryable {
		t.Errorf("err = %q retryable %v, want %q retryable", pe.Error(), pe.Retryable, want)
	}
	if res != (purge.Result{Items: 30, Calls: 2}) {
		t.Errorf("result = %+v, want 30 items in 2 calls", res)
	}
	if got := len(stub.URLsPurged(testZone)); got != 30 {
		t.Errorf("stub purged %d urls, want 30", got)
	}
}

// Two failed calls, one throttled and one refused, make one error that is
// not retryable as a whole.
func TestFailuresOfSeveralCallsCombine(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{MaxItemsPerCall: 2, URLRate: 0.001, URLBurst: 1})
	p := newPurger(t, base, Config{MaxURLsPerCall: 1, MaxItemsPerCall: 3})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(2), Tags: []string{"a", "b", "c"}})

	pe := purgeError(t, err)
	want := "purge zone " + testZone + ": 2 of 3 calls failed, first purge 1 urls: HTTP 429: code 971, 1018, 1016: " +
		"Please wait and consider throttling your request speed; " +
		"then purge 3 tags: HTTP 400: code 1018, 1016: Too many items in request, cannot provide more than 2 items per request; One or more cache purge errors"
	if pe.Error() != want {
		t.Errorf("err = %q\nwant  %q", pe.Error(), want)
	}
	if pe.Retryable || pe.StatusCode != 429 || pe.RetryAfter != 1000*time.Second {
		t.Errorf("err = %+v, want permanent, status 429, RetryAfter 1000s", pe)
	}
	if res != (purge.Result{Items: 1, Calls: 3}) {
		t.Errorf("result = %+v, want 1 item in 3 calls", res)
	}
	if n := len(stub.PurgeCalls()); n != 3 {
		t.Errorf("stub saw %d calls, want 3", n)
	}
}

func TestHangingAPIGivesRetryableErrorWhenContextEnds(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	stub.Hang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	began := time.Now()
	res, err := p.Purge(ctx, purge.Request{Zone: testZone, URLs: urls(3)})
	elapsed := time.Since(began)

	pe := purgeError(t, err)
	want := "purge 3 urls in zone " + testZone + ": context deadline exceeded"
	if pe.Error() != want || !pe.Retryable || pe.StatusCode != 0 {
		t.Errorf("err = %q %+v, want %q, retryable", pe.Error(), pe, want)
	}
	// Generous bound: it must return because ctx ended, not hang.
	if elapsed > 10*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("result = %+v, want 0 items in 1 call", res)
	}
}

func TestUnreachableAPIIsRetryable(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	stub.Close()

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Hosts: []string{"s.example"}})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.StatusCode != 0 || pe.Message == "" {
		t.Errorf("err = %+v, want retryable without status", pe)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("result = %+v", res)
	}
	assertNoSecret(t, err.Error())
}

// A proxy in front of the API may answer an HTML error page.
func TestNonJSONErrorAnswerKeepsStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
	}))
	defer srv.Close()
	p := newPurger(t, srv.URL+"/client/v4/", Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"a"}})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.StatusCode != 502 || pe.RetryAfter != 7*time.Second {
		t.Errorf("err = %+v, want retryable 502 with RetryAfter 7s", pe)
	}
	assertNoSecret(t, err.Error())
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 2 ", 2 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{"Mon, 02 Jan 2006 15:04:05 GMT", 0}, // a date in the past
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
