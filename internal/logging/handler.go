// Package logging is the process log's plumbing: a JSON slog handler that
// writes the lines slog.JSONHandler writes at a fraction of its cost, and a
// Writer that gathers the lines of many goroutines into few writes.
//
// Every event of the hot path ends in one log line, so the line's cost is
// the event's: slog.JSONHandler formats a float through encoding/json and
// writes each line with a system call under its lock, which hundreds of
// concurrent requests queue on.
package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/internal/jsonw"
)

// JSONHandler is a slog.Handler whose output is byte for byte
// slog.JSONHandler's. It writes the attributes of the common kinds itself
// (strings, numbers, booleans, durations, times) and hands any
// record or attribute it does not (groups, LogValuers, other values) to a
// slog.JSONHandler with the same options and attributes, which writes it
// to the same writer, under the same lock.
type JSONHandler struct {
	out   *lockedWriter
	std   slog.Handler // the same handler, for what the fast path leaves
	level slog.Leveler
	pre   []byte // the attributes of WithAttrs: `,"k":v` each
	bufs  *sync.Pool
}

// NewJSONHandler returns a JSONHandler writing to w. Options other than
// Level (AddSource, ReplaceAttr) make every record go through
// slog.JSONHandler.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	out := &lockedWriter{w: w}
	std := slog.NewJSONHandler(out, opts)
	if opts.AddSource || opts.ReplaceAttr != nil {
		return std
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	return &JSONHandler{out: out, std: std, level: level, bufs: &sync.Pool{New: func() any {
		b := make([]byte, 0, 1024)
		return &b
	}}}
}

// Enabled reports whether l is at or above the handler's level.
func (h *JSONHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// WithAttrs returns a handler whose lines carry as too.
func (h *JSONHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	std := h.std.WithAttrs(as)
	pre := h.pre[:len(h.pre):len(h.pre)] // an append copies
	for _, a := range as {
		var ok bool
		if pre, ok = appendAttr(pre, a); !ok {
			return std
		}
	}
	return &JSONHandler{out: h.out, std: std, level: h.level, pre: pre, bufs: h.bufs}
}

// WithGroup returns slog.JSONHandler's handler for the group: groups are
// rare here, and not worth a fast path.
func (h *JSONHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.std.WithGroup(name)
}

// maxPooled is the largest line buffer kept for the next line.
const maxPooled = 16 << 10

// Handle writes r as one line.
func (h *JSONHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := h.bufs.Get().(*[]byte)
	defer h.putBuf(bp)
	b, ok := h.head((*bp)[:0], r.Time, r.Level, r.Message)
	if ok {
		r.Attrs(func(a slog.Attr) bool {
			b, ok = appendAttr(b, a)
			return ok
		})
	}
	*bp = b
	if !ok {
		return h.std.Handle(ctx, r)
	}
	return h.end(bp)
}

// handleAttrs is Handle for a record of t, level, msg and attrs, made
// only when slog.JSONHandler is to write it (see LogAttrs).
func (h *JSONHandler) handleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr) error {
	bp := h.bufs.Get().(*[]byte)
	defer h.putBuf(bp)
	b, ok := h.head((*bp)[:0], t, level, msg)
	for i := 0; ok && i < len(attrs); i++ {
		b, ok = appendAttr(b, attrs[i])
	}
	*bp = b
	if !ok {
		r := slog.NewRecord(t, level, msg, 0)
		r.AddAttrs(attrs...)
		return h.std.Handle(ctx, r)
	}
	return h.end(bp)
}

// head appends a line's start: {, time, level, msg and the attributes of
// WithAttrs. It reports false if only slog.JSONHandler writes the time
// exactly.
func (h *JSONHandler) head(b []byte, t time.Time, level slog.Level, msg string) ([]byte, bool) {
	b = append(b, '{')
	if !t.IsZero() {
		t = t.Round(0) // as slog: no monotonic reading
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false // slog writes an error in the line
		}
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = jsonw.SlogString(b, level.String())
	b = append(b, `,"msg":`...)
	b = jsonw.SlogString(b, msg)
	return append(b, h.pre...), true
}

// end ends the line in *bp and writes it.
func (h *JSONHandler) end(bp *[]byte) error {
	*bp = append(*bp, '}', '\n')
	_, err := h.out.Write(*bp)
	return err
}

func (h *JSONHandler) putBuf(bp *[]byte) {
	if cap(*bp) <= maxPooled {
		h.bufs.Put(bp)
	}
}

// LogAttrs is l.LogAttrs without the caller's program counter, which
// slog.Logger takes with runtime.Callers for every line and only a handler
// with AddSource reads (edgepurge sets none). For a JSONHandler, the line
// is written straight from attrs, with no slog.Record (whose attributes
// past the fifth go in a slice of their own). The hot path logs each event
// through it.
func LogAttrs(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	h := l.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	if jh, ok := h.(*JSONHandler); ok {
		_ = jh.handleAttrs(ctx, time.Now(), level, msg, attrs)
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}

// appendAttr appends `,"key":value` and reports true, or reports false if
// only slog.JSONHandler writes a exactly (b is then to be dropped).
func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return b, false // slog elides empty attrs and inlines groups
	}
	b = append(b, ',')
	b = jsonw.SlogString(b, a.Key)
	b = append(b, ':')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		b = jsonw.SlogString(b, v.String())
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return b, false // slog writes encoding/json's error
		}
		b = jsonw.Float(b, f) // what slog.JSONHandler has encoding/json write
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		t := v.Time()
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	default: // groups, LogValuers, errors and other values (rare here)
		return b, false
	}
	return b, true
}

// lockedWriter serializes the handler's writes and slog.JSONHandler's to
// one writer, so that lines are never interleaved.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
