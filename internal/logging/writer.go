// Package logging is the process log's writer: it gathers the lines that
// many request goroutines log at once into few writes. slog's handlers
// write each line with its own write(2) while holding their lock, so under
// load every request would queue behind the system call of the line
// before it.
package logging

import (
	"io"
	"sync"
)

// DefaultLimit is how many bytes of lines may wait to be written before a
// writer waits for the batch in flight.
const DefaultLimit = 1 << 20

// Writer is an io.Writer that gathers the lines of many goroutines into few
// writes (group commit): a Write copies its bytes into a buffer and
// returns, and one goroutine writes, in order, everything that arrived
// while its previous write was in flight. Under light load each line is
// written at once, on its own; under heavy load a batch grows with it.
//
// Each Write is kept whole (a log line is never split nor interleaved).
// Lines are never dropped: past the limit of waiting bytes a Write waits,
// as a direct write to a blocked stderr would. What is lost if the process
// dies abruptly is what waited at that moment: under normal load, the
// lines of one write's duration. Close writes what waits; later writes go
// straight to the underlying writer.
type Writer struct {
	out   io.Writer
	limit int

	mu      sync.Mutex
	room    sync.Cond // broadcast when a batch was written, or on Close
	pending []byte    // lines not yet taken by the writing goroutine
	spare   []byte    // the previous batch's buffer, for reuse
	closed  bool

	kick chan struct{} // pending went from empty to not empty
	done chan struct{} // the writing goroutine has returned
}

// NewWriter returns a Writer writing to out, with at most limit bytes
// waiting (DefaultLimit if limit ≤ 0), and starts its goroutine.
func NewWriter(out io.Writer, limit int) *Writer {
	if limit <= 0 {
		limit = DefaultLimit
	}
	w := &Writer{out: out, limit: limit, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.room.L = &w.mu
	go w.run()
	return w
}

// Write queues a copy of p and returns, unless the limit is reached: then
// it first waits for the batch in flight. After Close it writes p itself.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) >= w.limit && !w.closed {
		w.room.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // after the lines that were waiting
		return w.out.Write(p)
	}
	if len(w.pending) == 0 {
		select { // under the lock, for Close closes kick
		case w.kick <- struct{}{}:
		default: // already kicked
		}
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	return len(p), nil
}

// run writes batches until Close, then what is left.
func (w *Writer) run() {
	defer close(w.done)
	for range w.kick {
		w.flush()
	}
	w.flush()
}

// flush writes the waiting lines, batch after batch, until none wait. A
// failed write is not retried: the log has nowhere to report it (slog
// ignores a direct write's error too).
func (w *Writer) flush() {
	for {
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.mu.Unlock()
			return
		}
		batch := w.pending
		w.pending, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		_, _ = w.out.Write(batch)
		w.mu.Lock()
		if cap(batch) <= 2*w.limit { // a buffer a burst grew past that is let go
			w.spare = batch[:0]
		}
		w.room.Broadcast()
		w.mu.Unlock()
	}
}

// Close writes every waiting line and stops the goroutine; later writes
// go straight to the underlying writer. It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.room.Broadcast()
	w.mu.Unlock()
	close(w.kick)
	<-w.done
	return nil
}
