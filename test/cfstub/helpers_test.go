package cfstub

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
	testToken = "good_token-0123456789"
	testZone  = "023e105f4ecef8ad9ca31a8372d0c353"
)

// reply is one decoded answer of the stand-in.
type reply struct {
	status int
	header http.Header
	raw    string
	env    struct {
		Success  bool            `json:"success"`
		Errors   []apiError      `json:"errors"`
		Messages []apiError      `json:"messages"`
		Result   json.RawMessage `json:"result"`
	}
}

// codes lists the answer's error codes.
func (r reply) codes() []int {
	var cs []int
	for _, e := range r.env.Errors {
		cs = append(cs, e.Code)
	}
	return cs
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

// call sends one request; authorization "" sends no Authorization header.
// It may run outside the test's goroutine, so it reports failures as errors.
func call(t *testing.T, ctx context.Context, method, url, authorization, body string) (reply, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read answer: %w", err)
	}
	r := reply{status: res.StatusCode, header: res.Header, raw: string(data)}
	if err := json.Unmarshal(data, &r.env); err != nil {
		return reply{}, fmt.Errorf("answer is not a JSON envelope: %w: %q", err, data)
	}
	return r, nil
}

// purge posts body to the zone's purge_cache with the test token.
func purge(t *testing.T, base, zone, body string) reply {
	t.Helper()
	r, err := call(t, context.Background(), http.MethodPost, base+"zones/"+zone+"/purge_cache", "Bearer "+testToken, body)
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	return r
}

// filesBody is a files purge of n distinct URLs.
func filesBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"files":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"https://a.example/%d"`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}
