package app

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

// rawAnswer is what the server answered to one raw request.
type rawAnswer struct {
	status int
	header http.Header
	body   string
}

// rawRequest builds an HTTP/1.1 request by hand, so that a test can send
// what no well-behaved client would. A nil headers map sends only Host and
// Connection; Content-Length is added for a body unless headers set it or
// Transfer-Encoding.
func rawRequest(method, path string, headers map[string]string, body string) string {
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

// send writes req on a new connection and reads the whole answer.
func (h *harness) send(req string) rawAnswer {
	h.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(defaultTestWait))
	// The server may answer (413) and close before it has read everything,
	// so a write error is not the test's failure: the answer is.
	go func() { _, _ = io.WriteString(conn, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatalf("read answer to %.60q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// signedHeaders are the Standard Webhooks headers for id and body, signed
// with secret at now+skew, plus a JSON Content-Type.
func signedHeaders(t *testing.T, secret, id string, skew time.Duration, body string) map[string]string {
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

// with returns a copy of m with the given key/value pairs set; an empty
// value deletes the key.
func with(m map[string]string, kv ...string) map[string]string {
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

// seedRedis writes keys a purge of page p0 would unlink, and one it never
// touches, under the harness prefix; untouched reports which are gone.
type seededKeys struct {
	h    *harness
	keys []string
}

func (h *harness) seedRedis() seededKeys {
	h.t.Helper()
	ctx := context.Background()
	rdb := redistest.Client(h.t)
	s := seededKeys{h: h, keys: []string{
		h.prefix + "statuspage:p0:summary",
		h.prefix + "statuspage:p0:incident:inc1",
		h.prefix + "fragment:1",
		h.prefix + "k1",
	}}
	for _, k := range s.keys {
		if err := rdb.Set(ctx, k, "cached", 0).Err(); err != nil {
			h.t.Fatal(err)
		}
	}
	set := h.prefix + "statuspage:p0:fragments"
	if err := rdb.SAdd(ctx, set, h.prefix+"fragment:1").Err(); err != nil {
		h.t.Fatal(err)
	}
	s.keys = append(s.keys, set)
	return s
}

// assertUntouched fails the test if a seeded key is gone or a dedupe
// record was written.
func (s seededKeys) assertUntouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Client(t)
	for _, k := range s.keys {
		if n, err := rdb.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("seeded key %s is gone (%v)", k, err)
		}
	}
	if seen, err := rdb.Keys(ctx, s.h.prefix+"seen:*").Result(); err != nil || len(seen) != 0 {
		t.Errorf("dedupe records written: %q (%v)", seen, err)
	}
}
