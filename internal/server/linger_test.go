package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// closedWithin is how long a test waits for the server to close a
// draining connection: far more than lingerTime, so that a loaded machine
// does not fail the test; what is asserted is that it closes at all.
const closedWithin = 30 * time.Second

// oversized opens a connection to base and writes the headers of a manual
// purge that declares a 100 MB body; the server (limit 4096) refuses it.
func oversized(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(closedWithin))
	req := "POST /v1/purge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n" +
		"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return conn
}

// read413 reads the answer on conn and wants the 413 with Connection: close.
func read413(t *testing.T, br *bufio.Reader) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the 413: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "body too large: the limit is 4096 bytes") || !resp.Close {
		t.Fatalf("answer %d (close %v) %s, want 413 with Connection: close", resp.StatusCode, resp.Close, b)
	}
}

// readEOF reads the rest of br: the server's FIN comes right after the
// 413, before its drain ends.
func readEOF(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("after the 413: %v, want the server's FIN", err)
	}
}

// cutOff waits for the sender, which writes until the server's close makes
// its writes fail, and fails if the test's own deadline stopped it.
func cutOff(t *testing.T, done <-chan error) {
	t.Helper()
	err := <-done
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still read the connection after %v", closedWithin)
	}
}

// A sender that keeps trickling after its 413 does not hold the
// connection: the drain has a deadline, set once.
func TestOversizedDrainIsBoundedInTime(t *testing.T) {
	_, base := startServer(t, io.Discard)
	conn := oversized(t, base)
	br := bufio.NewReader(conn)
	read413(t, br)
	readEOF(t, br)
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := conn.Write([]byte("x")); err != nil {
				done <- err
				return
			}
		}
	}()
	cutOff(t, done)
}

// A sender that writes as fast as it can after its 413 is cut off after a
// bounded amount: the drain reads at most lingerBytes. Without that bound
// a loopback sender would push gigabytes within lingerTime.
func TestOversizedDrainIsBoundedInBytes(t *testing.T) {
	_, base := startServer(t, io.Discard)
	conn := oversized(t, base)
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			n, err := conn.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				done <- err
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	read413(t, br)
	readEOF(t, br)
	cutOff(t, done)
	// What was sent is the drain's bound plus what the two sockets' buffers
	// held; 64 MiB leaves room for the largest of buffers.
	if n := sent.Load(); n > 64<<20 {
		t.Errorf("the server took %d bytes after the 413; the drain reads at most %d", n, lingerBytes)
	}
}

// A client that writes its whole oversized body before reading still reads
// its 413 (without the drain the server's close with unread input resets
// the connection, often before the answer is read).
func TestOversizedBodyWrittenFirstReads413(t *testing.T) {
	_, base := startServer(t, io.Discard)
	body := strings.Repeat("x", 3_000_000)
	for i := range 20 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(closedWithin))
		req := "POST /v1/purge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n" +
			"Content-Type: application/json\r\nContent-Length: 3000000\r\n\r\n" + body
		if _, err := io.WriteString(conn, req); err != nil {
			conn.Close()
			t.Fatalf("try %d: write: %v", i+1, err)
		}
		read413(t, bufio.NewReader(conn))
		conn.Close()
	}
}
