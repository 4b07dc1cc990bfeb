package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

const (
	// oversizeBody is what a write-first sender sends: about 3 MB, three
	// times the default server.max_body_bytes (1 MiB).
	oversizeBody = 3_000_000
	// oversizeTries is how many times each variant is sent; every one must
	// read its 413.
	oversizeTries = 20
	// oversizeWait bounds one try; it is generous, the answer is expected
	// within the server's 2 s linger at worst.
	oversizeWait = 30 * time.Second
)

// oversizeEvent is a correctly signed event (so only its size is wrong)
// whose JSON body pads an incident update to n bytes.
func oversizeEvent(n int) string {
	const head = `{"type":"incident.updated","page_id":"p0","incident_id":"inc1","pad":"`
	const tail = `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// chunked frames body as chunks of size bytes, then the last chunk.
func chunked(body string, size int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// writeFirst sends req the way a simple client does: it writes all of it,
// and only then reads the answer. It returns the answer, or what went
// wrong (a write or read error is what such a client would see: a network
// error it retries). closes reports Connection: close (net/http takes that header out of the
// answer's Header and sets Response.Close instead).
func writeFirst(addr, req string) (status int, closes bool, body string, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, false, "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(oversizeWait))
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, false, "", fmt.Errorf("write: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, false, "", fmt.Errorf("read answer: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, "", fmt.Errorf("read answer body: %w", err)
	}
	return resp.StatusCode, resp.Close, string(b), nil
}

// TestOversizedBodyWrittenFirstReads413 sends a whole 3 MB request before
// reading, 20 times for each framing, and wants a 413 with its message and
// Connection: close every time — never a reset connection — and nothing
// purged.
func TestOversizedBodyWrittenFirstReads413(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Server.MaxBodyBytes = config.DefaultMaxBodyBytes
	})
	h.WaitReady()
	seeded := h.SeedRedis()
	addr := strings.TrimPrefix(h.Base, "http://")
	const path = "/v1/hooks/events"
	want := fmt.Sprintf("body too large: the limit is %d bytes", config.DefaultMaxBodyBytes)
	body := oversizeEvent(oversizeBody)

	variants := []struct {
		name string
		req  func(i int) string
	}{
		{"content-length", func(i int) string {
			signed := harness.SignedHeaders(t, harness.TestSecret, fmt.Sprintf("msg_big_cl_%d", i), 0, body)
			return harness.RawRequest("POST", path, signed, body)
		}},
		{"chunked", func(i int) string {
			signed := harness.SignedHeaders(t, harness.TestSecret, fmt.Sprintf("msg_big_te_%d", i), 0, body)
			return harness.RawRequest("POST", path, harness.With(signed, "Transfer-Encoding", "chunked"), chunked(body, 256<<10))
		}},
		// A client that announces Expect: 100-continue but sends the body
		// without waiting (curl does after a second): refused from the
		// headers, the body is already on its way.
		{"expect-continue sent anyway", func(i int) string {
			signed := harness.SignedHeaders(t, harness.TestSecret, fmt.Sprintf("msg_big_ex_%d", i), 0, body)
			return harness.RawRequest("POST", path, harness.With(signed, "Expect", "100-continue"), body)
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ok := 0
			for i := range oversizeTries {
				status, closed, got, err := writeFirst(addr, v.req(i))
				switch {
				case err != nil:
					t.Errorf("try %d: %v", i+1, err)
				case status != http.StatusRequestEntityTooLarge || !strings.Contains(got, want):
					t.Errorf("try %d: answer %d %s, want 413 containing %q", i+1, status, got, want)
				case !closed:
					t.Errorf("try %d: the 413 has no Connection: close", i+1)
				default:
					ok++
				}
			}
			t.Logf("%d of %d write-first tries read 413", ok, oversizeTries)
		})
	}

	if calls := h.Stub.PurgeCalls(); len(calls) != 0 {
		t.Errorf("the Cloudflare stand-in saw %d purge calls: %+v", len(calls), calls)
	}
	seeded.AssertUntouched(t)
	// Other requests are unaffected: a good event is purged.
	if code, raw := h.SendEvent("msg_after_oversize", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`)); code != http.StatusOK {
		t.Errorf("good event after the oversized ones: %d %s", code, raw)
	}
}
