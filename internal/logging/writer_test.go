package logging

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer that records each write apart.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{} // when set, each write waits for a receive
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestWriterKeepsEveryLineWholeAndInOrder writes from many goroutines:
// after Close every line is there once, whole, each goroutine's in order.
func TestWriterKeepsEveryLineWholeAndInOrder(t *testing.T) {
	var out syncBuffer
	w := NewWriter(&out, 4096)
	const goroutines, lines = 16, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "g=%d i=%d %s\n", g, i, strings.Repeat("x", i%97))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, goroutines)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	for _, line := range got {
		var g, i int
		if _, err := fmt.Sscanf(line, "g=%d i=%d ", &g, &i); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if line != fmt.Sprintf("g=%d i=%d %s", g, next[g], strings.Repeat("x", next[g]%97)) {
			t.Fatalf("line %q: want g=%d i=%d, whole", line, g, next[g])
		}
		next[g]++
	}
	if out.writes >= goroutines*lines {
		t.Logf("%d writes for %d lines: no batching happened", out.writes, goroutines*lines)
	}
}

// TestWriterWritesAtOnce: a lone line is written without waiting for
// more, or for Close.
func TestWriterWritesAtOnce(t *testing.T) {
	var out syncBuffer
	w := NewWriter(&out, 0)
	defer w.Close()
	if _, err := w.Write([]byte("alone\n")); err != nil {
		t.Fatal(err)
	}
	for out.String() != "alone\n" {
		time.Sleep(time.Millisecond) // the test's deadline bounds this
	}
}

// TestWriterWaitsPastItsLimit: with the underlying writer stuck, writes
// return until the limit of waiting bytes, then wait, and lose nothing.
func TestWriterWaitsPastItsLimit(t *testing.T) {
	out := syncBuffer{gate: make(chan struct{})}
	w := NewWriter(&out, 10)
	line := []byte("0123456789\n") // 11 bytes: one line reaches the limit
	if _, err := w.Write(line); err != nil {
		t.Fatal(err)
	}
	// The goroutine takes that line and is stuck writing it; the next one
	// waits in pending, and the one after must block.
	for {
		w.mu.Lock()
		taken := len(w.pending) == 0 && w.spare == nil
		w.mu.Unlock()
		if taken {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := w.Write(line); err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	go func() {
		_, _ = w.Write(line)
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("a write past the limit returned while the underlying writer was stuck")
	case <-time.After(50 * time.Millisecond):
	}
	out.gate <- struct{}{} // the first batch goes through
	<-returned
	close(out.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != strings.Repeat(string(line), 3) {
		t.Errorf("got %q, want the three lines", got)
	}
}

// TestWriterAfterClose: Close is idempotent, and later writes go straight
// through, after the lines written before.
func TestWriterAfterClose(t *testing.T) {
	var out syncBuffer
	w := NewWriter(&out, 0)
	_, _ = w.Write([]byte("before\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("after\n")); n != 6 || err != nil {
		t.Fatalf("write after close: %d, %v", n, err)
	}
	if got := out.String(); got != "before\nafter\n" {
		t.Errorf("got %q", got)
	}
}
