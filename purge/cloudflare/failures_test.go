package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

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

// Cloudflare's code for too many items in one call is not known (the
// stand-in's 1018 is invented): the client's answer must not depend on it.
// Whatever the code, the refusal is permanent, keeps its codes and words.
func TestTooManyItemsWhateverTheCode(t *testing.T) {
	for _, code := range []int{0, 1234, 1019} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			want := code
			if code == 0 {
				want = cfstub.CodeTooManyItems
			}
			_, base := startStub(t, cfstub.Options{MaxItemsPerCall: 2, TooManyItemsCode: code})
			p := newPurger(t, base, Config{MaxItemsPerCall: 3})

			res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"a", "b", "c"}})

			pe := purgeError(t, err)
			if pe.Retryable || pe.StatusCode != 400 || !slices.Equal(pe.Codes, []int{want, cfstub.CodePurgeErrors}) ||
				!strings.Contains(pe.Message, "cannot provide more than 2 items") {
				t.Errorf("err = %+v, want permanent 400 [%d %d] naming the limit", pe, want, cfstub.CodePurgeErrors)
			}
			if res.Items != 0 {
				t.Errorf("result = %+v, want nothing counted", res)
			}
		})
	}
}
