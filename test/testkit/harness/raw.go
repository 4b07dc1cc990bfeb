package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// RawAnswer is what the server answered to one raw request.
type RawAnswer struct {
	Status int
	Header http.Header
	Body   string
}

// RawRequest builds an HTTP/1.1 request by hand, so that a test can send
// what no well-behaved client would. A nil headers map sends only Host and
// Connection; Content-Length is added for a body unless headers set it or
// Transfer-Encoding.
func RawRequest(method, path string, headers map[string]string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: edgepurge.test\r\nConnection: close\r\n", method, path)
	_, hasLen := headers["Content-Length"]
	_, chunked := headers["Transfer-Encoding"]
	if body != "" && !hasLen && !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, headers[k])
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// Send writes req on a new connection and reads the whole answer.
func (h *H) Send(req string) RawAnswer {
	h.T.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.Base, "http://"))
	if err != nil {
		h.T.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(DefaultTestWait))
	// The server may answer (413) and close before it has read everything,
	// so a write error is not the test's failure: the answer is.
	go func() { _, _ = io.WriteString(conn, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.T.Fatalf("read answer to %.60q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return RawAnswer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// SignedHeaders are the Standard Webhooks headers for id and body, signed
// with secret at now+skew, plus a JSON Content-Type.
func SignedHeaders(t *testing.T, secret, id string, skew time.Duration, body string) map[string]string {
	t.Helper()
	at := time.Now().Add(skew)
	sig, err := webhook.Sign(secret, id, at, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"Content-Type":      "application/json",
		"webhook-id":        id,
		"webhook-timestamp": fmt.Sprint(at.Unix()),
		"webhook-signature": sig,
	}
}

// With returns a copy of m with the given key/value pairs set; an empty
// value deletes the key.
func With(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// SeededKeys are keys a purge of page p0 would unlink, and one it never
// touches, written under the harness prefix by SeedRedis; AssertUntouched
// reports which are gone.
type SeededKeys struct {
	h    *H
	Keys []string
}

// SeedRedis writes the SeededKeys.
func (h *H) SeedRedis() SeededKeys {
	h.T.Helper()
	ctx := context.Background()
	rdb := redistest.Client(h.T)
	s := SeededKeys{h: h, Keys: []string{
		h.Prefix + "statuspage:p0:summary",
		h.Prefix + "statuspage:p0:incident:inc1",
		h.Prefix + "fragment:1",
		h.Prefix + "k1",
	}}
	for _, k := range s.Keys {
		if err := rdb.Set(ctx, k, "cached", 0).Err(); err != nil {
			h.T.Fatal(err)
		}
	}
	set := h.Prefix + "statuspage:p0:fragments"
	if err := rdb.SAdd(ctx, set, h.Prefix+"fragment:1").Err(); err != nil {
		h.T.Fatal(err)
	}
	s.Keys = append(s.Keys, set)
	return s
}

// AssertUntouched fails the test if a seeded key is gone or a dedupe
// record was written.
func (s SeededKeys) AssertUntouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Client(t)
	for _, k := range s.Keys {
		if n, err := rdb.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("seeded key %s is gone (%v)", k, err)
		}
	}
	if seen, err := rdb.Keys(ctx, s.h.Prefix+"seen:*").Result(); err != nil || len(seen) != 0 {
		t.Errorf("dedupe records written: %q (%v)", seen, err)
	}
}
