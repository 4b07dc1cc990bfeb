package fastly

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

func TestForbiddenIsPermanent(t *testing.T) {
	const selectOnly = "purge-select-only-token"
	_, base := startStub(t, fastlystub.Options{Tokens: []string{selectOnly}, Scopes: map[string][]string{selectOnly: {fastlystub.ScopePurgeSelect}}})
	p := newPurger(t, base, Config{APIToken: selectOnly})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1), Everything: true})

	pe := purgeError(t, err)
	want := "purge all in fastly service " + testService + ": HTTP 403: " + fastlystub.MsgForbidden + "; give the token scope purge_all"
	if pe.Error() != want || pe.Retryable || pe.Permission != ScopePurgeAll {
		t.Errorf("err = %q (retryable %t)\nwant  %q, permanent", pe.Error(), pe.Retryable, want)
	}
	if res != (purge.Result{Items: 1, Calls: 2}) {
		t.Errorf("res = %+v, want the key purge counted", res)
	}
	if strings.Contains(err.Error(), selectOnly) {
		t.Errorf("err leaks the token: %q", err)
	}
}

func TestTooManyKeysAnswerIsPermanent(t *testing.T) {
	_, base := startStub(t, fastlystub.Options{MaxKeysPerCall: 2})
	p := newPurger(t, base, Config{MaxKeysPerCall: 3})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(3)})

	pe := purgeError(t, err)
	if pe.Retryable || pe.StatusCode != 400 || pe.Message != "Batch surrogate key request only supports up to 2 surrogate keys" {
		t.Errorf("err = %+v, want permanent 400", pe)
	}
}

func TestRateLimitedWaitsForTheReset(t *testing.T) {
	tests := []struct {
		name           string
		omitRetryAfter bool
	}{{"reset header only", true}, {"with retry-after", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, base := startStub(t, fastlystub.Options{PurgeRate: 0.001, PurgeBurst: 1, OmitRetryAfter: tt.omitRetryAfter})
			p := newPurger(t, base, Config{})
			if _, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1)}); err != nil {
				t.Fatalf("first purge: %v", err)
			}

			res, err := p.Purge(context.Background(), purge.Request{Zone: testService, Everything: true})

			pe := purgeError(t, err)
			if !pe.Retryable || pe.StatusCode != 429 {
				t.Errorf("err = %+v, want retryable 429", pe)
			}
			// One call short at 0.001 calls/s is 1000 s; the reset header
			// is a whole Unix second.
			if pe.RetryAfter < 998*time.Second || pe.RetryAfter > 1001*time.Second {
				t.Errorf("RetryAfter = %v, want about 1000s", pe.RetryAfter)
			}
			if res != (purge.Result{Items: 0, Calls: 1}) || stub.Throttled() != 1 {
				t.Errorf("res = %+v, throttled %d: want one call, no retry of our own", res, stub.Throttled())
			}
		})
	}
}

func TestRateLimitedWithoutHeadersWaitsOneSecond(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(fastlystub.Failure{Status: 429})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1)})

	if pe := purgeError(t, err); !pe.Retryable || pe.RetryAfter != time.Second {
		t.Errorf("err = %+v, want retryable with RetryAfter 1s", pe)
	}
}

func TestServerErrorIsRetryable(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(fastlystub.Failure{Status: 503, Msg: "Service Unavailable", Detail: "try later", RetryAfter: 7 * time.Second})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testService, Everything: true})

	pe := purgeError(t, err)
	want := "purge all in fastly service " + testService + ": HTTP 503: Service Unavailable: try later"
	if pe.Error() != want {
		t.Errorf("err = %q\nwant  %q", pe.Error(), want)
	}
	if !pe.Retryable || pe.RetryAfter != 7*time.Second {
		t.Errorf("err = %+v, want retryable with RetryAfter 7s", pe)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) || len(stub.PurgeCalls()) != 1 {
		t.Errorf("res = %+v, stub saw %d calls: want exactly one", res, len(stub.PurgeCalls()))
	}
}

func TestProxyErrorPage(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(fastlystub.Failure{Status: 502, Body: "<html>\n<body>Bad   Gateway</body></html>"})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Everything: true})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.StatusCode != 502 || pe.Message != "unexpected answer: <html> <body>Bad Gateway</body></html>" {
		t.Errorf("err = %+v", pe)
	}
}

func TestCallsWaitingForASlotAreUnsent(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{MaxInflightCalls: 1})
	stub.Hang(true)
	defer stub.Hang(false)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := p.Purge(ctx, purge.Request{Zone: testService, URLs: urls(3)})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.Unsent {
		t.Errorf("err = %+v, want retryable and not Unsent (one call was sent)", pe)
	}
	if !strings.Contains(pe.Op, "3 of 3 calls failed") || strings.Count(pe.Message, "not sent") != 2 {
		t.Errorf("err = %q", pe)
	}
	if res != (purge.Result{Items: 0, Calls: 1}) {
		t.Errorf("res = %+v, want one call made", res)
	}

	// A context already done sends nothing at all.
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	res, err = p.Purge(done, purge.Request{Zone: testService, URLs: urls(2)})
	if pe := purgeError(t, err); !pe.Unsent || !pe.Retryable || res.Calls != 0 {
		t.Errorf("err = %+v res %+v, want Unsent with no call", pe, res)
	}
}

func TestClientTimeoutIsRetryable(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	stub.Hang(true)
	defer stub.Hang(false)

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Everything: true})

	pe := purgeError(t, err)
	if !pe.Retryable || pe.StatusCode != 0 || !strings.Contains(pe.Message, "Client.Timeout") {
		t.Errorf("err = %+v, want a retryable timeout", pe)
	}
	if strings.Contains(pe.Message, base) {
		t.Errorf("message repeats the URL: %q", pe.Message)
	}
}

func TestManyFailuresAreSummed(t *testing.T) {
	_, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{APIToken: wrongToken, MaxInflightCalls: 1})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(6)})

	pe := purgeError(t, err)
	wantOp := "purge fastly service " + testService + ": 6 of 6 calls failed, first purge url https://" + testHost + "/incidents/000"
	if pe.Op != wantOp || pe.Retryable || pe.StatusCode != 401 {
		t.Errorf("err = %+v\nwant op %q, permanent 401", pe, wantOp)
	}
	if strings.Count(pe.Message, "then purge url") != 3 || !strings.HasSuffix(pe.Message, "and 2 more failures") {
		t.Errorf("message = %q", pe.Message)
	}
	if res != (purge.Result{Items: 0, Calls: 6}) {
		t.Errorf("res = %+v", res)
	}
	assertNoSecret(t, err.Error())
}

func TestMixedFailuresAreRetryableOnlyIfAllAre(t *testing.T) {
	_, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{})

	// 404 for the unknown service; the URL purge is not scoped and passes.
	res, err := p.Purge(context.Background(), purge.Request{Zone: "nope", URLs: urls(1), Tags: keys(1), Everything: true})

	pe := purgeError(t, err)
	if pe.Retryable || !strings.Contains(pe.Op, "2 of 3 calls failed") {
		t.Errorf("err = %+v", pe)
	}
	if res != (purge.Result{Items: 1, Calls: 3}) {
		t.Errorf("res = %+v", res)
	}
}

// TestNoTokenInAnyError gathers the error text of every failure path,
// including an API that echoes the token back, and checks none carries it.
func TestNoTokenInAnyError(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"msg":"bad key ` + r.Header.Get("Fastly-Key") + `","detail":"` + r.Header.Get("Fastly-Key") + `"}`))
	}))
	defer echo.Close()
	stub, base := startStub(t, fastlystub.Options{})
	var texts []string
	collect := func(err error) {
		if err == nil {
			t.Error("want an error")
			return
		}
		texts = append(texts, err.Error())
	}

	for _, token := range []string{testToken, wrongToken} {
		for _, b := range []string{base, echo.URL, "http://127.0.0.1:1"} {
			p := newPurger(t, b, Config{APIToken: purge.Secret(token)})
			_, err := p.Purge(context.Background(), purge.Request{Zone: "nope", URLs: urls(2), Tags: keys(2), Everything: true})
			collect(err)
			collect(p.CheckService(context.Background(), "nope"))
			if token == wrongToken || b != base {
				collect(p.CheckToken(context.Background()))
			}
		}
	}
	stub.Hang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := newPurger(t, base, Config{}).Purge(ctx, purge.Request{Zone: testService, Tags: keys(1)})
	collect(err)
	stub.Hang(false)
	_, err = New(Config{APIToken: testToken + "\n"})
	collect(err)

	for _, text := range texts {
		assertNoSecret(t, text)
	}
	if !strings.Contains(strings.Join(texts, "\n"), "bad key [token]") {
		t.Error("the echoed token was not redacted to [token]")
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	leaked := make(chan string, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked <- r.Header.Get("Fastly-Key")
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	p := newPurger(t, redirect.URL, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Everything: true})

	if pe := purgeError(t, err); pe.Retryable || pe.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("err = %+v, want a permanent 307", pe)
	}
	select {
	case key := <-leaked:
		t.Errorf("redirect followed, Fastly-Key %q sent elsewhere", key)
	default:
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no token", Config{}, "no API token"},
		{"token with newline", Config{APIToken: testToken + "\r\n"}, "control characters"},
		{"bad base url", Config{APIToken: testToken, BaseURL: "api.fastly.com"}, "not an http(s) URL"},
		{"too many keys per call", Config{APIToken: testToken, MaxKeysPerCall: 300}, "limit of 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil {
				assertNoSecret(t, err.Error())
			}
		})
	}
	p, err := New(Config{APIToken: testToken})
	if err != nil || p.baseURL != DefaultBaseURL || p.maxKeys != 256 || p.maxInflight != 8 || p.hc.Timeout != DefaultTimeout {
		t.Errorf("defaults: %+v, %v", p, err)
	}
	if !errors.Is(p.hc.CheckRedirect(nil, nil), http.ErrUseLastResponse) {
		t.Error("default client follows redirects")
	}
}
