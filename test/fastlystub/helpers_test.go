package fastlystub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	testToken   = "fastly-test-token-0123456789"
	testService = "SU1Z0isxPaozGVKXdv0eY"
	testHost    = "status.example.com"
)

// reply is one answer of the stand-in.
type reply struct {
	status int
	header http.Header
	raw    string
}

// json decodes the answer's body into v, failing the test if it is not JSON.
func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.raw), v); err != nil {
		t.Fatalf("answer is not JSON: %v: %q", err, r.raw)
	}
}

// start serves a stand-in for one test and returns it with its base URL.
func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s, base
}

// send makes one request; key "" sends no Fastly-Key. It may run outside
// the test's goroutine, so it reports failures as errors.
func send(ctx context.Context, method, url, key, body string, header http.Header) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if key != "" {
		req.Header.Set("Fastly-Key", key)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read answer: %w", err)
	}
	return reply{status: res.StatusCode, header: res.Header, raw: string(data)}, nil
}

// do is send with the test token that fails the test on a transport error.
func do(t *testing.T, method, url, body string, header http.Header) reply {
	t.Helper()
	r, err := send(context.Background(), method, url, testToken, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// purgeKeys batch-purges keys in the test service with the test token.
func purgeKeys(t *testing.T, base string, keys ...string) reply {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"surrogate_keys": keys})
	return do(t, http.MethodPost, base+"/service/"+testService+"/purge", string(body), nil)
}

// keys returns n distinct surrogate keys.
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("page:%d", i)
	}
	return out
}
