package hostile

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

const (
	slowHeaderConns = 50
	slowBodyConns   = 20
	trickleEvery    = 200 * time.Millisecond
	// cutOffWithin is generous: the read timeout is 1 s.
	cutOffWithin = 10 * time.Second
)

// trickle opens a connection, writes prefix at once and then one byte of
// rest every trickleEvery, until the server closes the connection. It
// returns how long the server took to close it and what it answered.
func trickle(addr, prefix, rest string) (time.Duration, string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	began := time.Now()
	_ = conn.SetDeadline(began.Add(cutOffWithin + 5*time.Second))
	closed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server closes (or the deadline)
		closed <- string(b)
	}()
	if _, err := io.WriteString(conn, prefix); err != nil {
		return 0, "", err
	}
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case answer := <-closed:
			return time.Since(began), answer, nil
		case <-tick.C:
			// The server may have closed already: write errors are expected.
			_, _ = conn.Write([]byte{rest[i%len(rest)]})
		}
	}
}

func TestSlowlorisIsCutOffAndGoodRequestsAreServed(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Server.ReadTimeout = time.Second
	})
	h.WaitReady()
	addr := strings.TrimPrefix(h.Base, "http://")
	body := `{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`
	headers := harness.RawRequest("POST", "/v1/hooks/events", harness.SignedHeaders(t, harness.TestSecret, "msg_slow", 0, body), body)
	headerPart, _, _ := strings.Cut(headers, "\r\n\r\n")

	type result struct {
		kind   string
		took   time.Duration
		answer string
		err    error
	}
	results := make(chan result, slowHeaderConns+slowBodyConns)
	var wg sync.WaitGroup
	for range slowHeaderConns {
		// The request line at once, then the headers a byte at a time.
		wg.Go(func() {
			line, rest, _ := strings.Cut(headerPart, "\r\n")
			took, answer, err := trickle(addr, line+"\r\n", rest)
			results <- result{"headers", took, answer, err}
		})
	}
	for range slowBodyConns {
		// Complete headers, then the body a byte at a time.
		wg.Go(func() {
			took, answer, err := trickle(addr, headerPart+"\r\n\r\n", body)
			results <- result{"body", took, answer, err}
		})
	}

	// Meanwhile, good requests are served as usual.
	time.Sleep(300 * time.Millisecond) // every slow connection is open
	for i := range 10 {
		began := time.Now()
		code, raw := h.SendEvent(fmt.Sprintf("msg_during_slowloris_%d", i), []byte(body))
		if code != http.StatusOK {
			t.Errorf("good request %d during the slowloris: %d %s", i, code, raw)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("good request %d took %v", i, d)
		}
		time.Sleep(50 * time.Millisecond)
	}

	wg.Wait()
	close(results)
	var longest time.Duration
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.kind, r.err)
			continue
		}
		if r.took > cutOffWithin {
			t.Errorf("a slow %s connection was still open after %v", r.kind, r.took)
		}
		if !strings.HasPrefix(r.answer, "HTTP/1.1 408 ") {
			t.Errorf("a slow %s connection was answered %.40q, want 408", r.kind, r.answer)
		}
		longest = max(longest, r.took)
	}
	t.Logf("%d slow connections cut off, the last after %v", slowHeaderConns+slowBodyConns, longest)
	if n := len(h.Stub.PurgeCalls()); n == 0 {
		t.Error("the good requests purged nothing")
	}
}
