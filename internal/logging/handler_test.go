package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// the moment every test record carries.
var when = time.Date(2026, 12, 3, 7, 41, 7, 123456789, time.FixedZone("CET", 3600))

type token string

func (t token) LogValue() slog.Value {
	return slog.StringValue("redacted, " + strconv.Itoa(len(t)) + " bytes")
}

// both logs the same records through NewJSONHandler and slog.JSONHandler
// and returns both outputs.
func both(t *testing.T, opts *slog.HandlerOptions, do func(h slog.Handler)) (ours, std string) {
	t.Helper()
	var a, b bytes.Buffer
	do(NewJSONHandler(&a, opts))
	do(slog.NewJSONHandler(&b, opts))
	return a.String(), b.String()
}

func record(level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(when, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

// TestHandlerWritesWhatSlogWrites pins the output to slog.JSONHandler's,
// byte for byte, for every kind of value, both paths (the fast one and the
// hand-over), WithAttrs and WithGroup.
func TestHandlerWritesWhatSlogWrites(t *testing.T) {
	odd := "q\"b\\s/<>&\u2028\u2029\x00\x1f\x7f\t\r\n\b\féü日本\xff\xfe end"
	type nilErr struct{ error }
	var nilPtrErr *fmtErr
	cases := map[string][]slog.Attr{
		"none":     nil,
		"strings":  {slog.String("request_id", "r-1"), slog.String("odd", odd), slog.String(odd, "key")},
		"ints":     {slog.Int("n", -42), slog.Int64("max", math.MaxInt64), slog.Uint64("u", math.MaxUint64)},
		"floats":   {slog.Float64("a", 12.5), slog.Float64("b", 1e21), slog.Float64("c", 1e-7), slog.Float64("d", 0.000001), slog.Float64("e", math.Copysign(0, -1)), slog.Float64("f", 123456789.123456789), slog.Float64("g", 1e-300)},
		"nan":      {slog.String("before", "x"), slog.Float64("nan", math.NaN()), slog.Float64("inf", math.Inf(-1))},
		"bools":    {slog.Bool("t", true), slog.Bool("f", false)},
		"duration": {slog.Duration("d", 1500*time.Millisecond), slog.Duration("neg", -time.Nanosecond)},
		"times":    {slog.Time("t", when), slog.Time("utc", when.UTC()), slog.Time("zero", time.Time{}), slog.Time("far", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))},
		"errors":   {slog.Any("err", errors.New("dial tcp: refused \"x\"")), slog.Any("nil", nil), slog.Any("nilptr", nilPtrErr), slog.Any("wrapped", nilErr{})},
		"any":      {slog.Any("map", map[string]int{"a": 1}), slog.Any("slice", []string{"<a>"}), slog.Any("raw", json.RawMessage(`{"x":1}`))},
		"group":    {slog.Group("g", slog.String("a", "b"), slog.Int("n", 1)), slog.Group("empty"), slog.Group("", slog.String("inline", "yes"))},
		"valuer":   {slog.Any("token", token("secret"))},
		"empty":    {{}, slog.String("after", "empty attr")},
		"emptykey": {slog.String("", "v")},
	}
	for name, attrs := range cases {
		t.Run(name, func(t *testing.T) {
			for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn + 1, slog.LevelError, slog.LevelError + 8} {
				ours, std := both(t, &slog.HandlerOptions{Level: slog.LevelDebug}, func(h slog.Handler) {
					_ = h.Handle(context.Background(), record(level, "event \"purged\" <ok>", attrs...))
				})
				if ours != std {
					t.Errorf("level %v:\n ours %s\n slog %s", level, ours, std)
				}
			}
		})
	}
	t.Run("zero time", func(t *testing.T) {
		ours, std := both(t, nil, func(h slog.Handler) {
			_ = h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0))
		})
		if ours != std {
			t.Errorf("\n ours %s\n slog %s", ours, std)
		}
	})
	t.Run("year 12000", func(t *testing.T) {
		ours, std := both(t, nil, func(h slog.Handler) {
			_ = h.Handle(context.Background(), slog.NewRecord(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m", 0))
		})
		if ours != std {
			t.Errorf("\n ours %s\n slog %s", ours, std)
		}
	})
	t.Run("with", func(t *testing.T) {
		ours, std := both(t, nil, func(h slog.Handler) {
			l := slog.New(h)
			l.With("component", "queue", "n", 3).With(slog.Float64("rate", 0.5)).Info("one", "x", 1)
			l.With("token", token("s3")).Info("valuer in With", "x", 2)
			l.With("a", 1).WithGroup("g").With("b", 2).Info("group", "c", 3)
			l.WithGroup("").With("a", 1).Info("empty group name")
			l.With().Info("nothing")
			l.With(slog.Group("g", slog.Int("a", 1))).Info("group in With")
		})
		// These records are timed by slog.Logger: now.
		now := regexp.MustCompile(`(?m)^\{"time":"[^"]+",`)
		ours, std = now.ReplaceAllString(ours, "{"), now.ReplaceAllString(std, "{")
		if ours != std || !strings.Contains(ours, `"level"`) {
			t.Errorf("\n ours %s\n slog %s", ours, std)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, opts := range []*slog.HandlerOptions{
			{AddSource: true},
			{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == "secret" {
					a.Value = slog.StringValue("***")
				}
				return a
			}},
		} {
			ours, std := both(t, opts, func(h slog.Handler) {
				_ = h.Handle(context.Background(), record(slog.LevelInfo, "m", slog.String("secret", "x")))
			})
			if ours != std {
				t.Errorf("\n ours %s\n slog %s", ours, std)
			}
		}
	})
}

type fmtErr struct{}

func (*fmtErr) Error() string { return "fmt" }

func TestHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	l := slog.New(NewJSONHandler(&buf, &slog.HandlerOptions{Level: &level}))
	l.Info("dropped")
	l.Warn("kept")
	level.Set(slog.LevelInfo)
	l.Info("kept too")
	if got := strings.Count(buf.String(), "\n"); got != 2 || strings.Contains(buf.String(), "dropped") {
		t.Errorf("got %q, want the two lines at or above the level", buf.String())
	}
	if NewJSONHandler(&buf, nil).Enabled(context.Background(), slog.LevelDebug) {
		t.Error("no options: debug enabled, want info and up")
	}
}

// TestHandlerLinesStayWhole logs from many goroutines through both paths
// into one writer: every line must be one JSON object.
func TestHandlerLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer // not safe for concurrent use: the handler's lock is
	l := slog.New(NewJSONHandler(&buf, nil))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if i%3 == 0 {
					l.Info("slow path", "g", g, "any", []int{i})
				} else {
					l.Info("fast path", "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("not one JSON object: %q", line)
		}
	}
}

// TestHandlerAllocatesNothing: an event's log line costs no allocation.
func TestHandlerAllocatesNothing(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewJSONHandler(&buf, nil)).With("component", "pipeline")
	attrs := []slog.Attr{slog.String("request_id", "0000000000000001"), slog.String("id", "evt_1"),
		slog.Int("http_status", 200), slog.Float64("duration_ms", 12.345), slog.Bool("dry", false)}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		buf.Reset()
		l.LogAttrs(ctx, slog.LevelInfo, "event purged", attrs...)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per line, want 0", allocs)
	}
}

// FuzzHandlerWritesWhatSlogWrites: any string, number or time, as message,
// key or value, comes out as slog.JSONHandler writes it.
func FuzzHandlerWritesWhatSlogWrites(f *testing.F) {
	f.Add("msg", "key", "value", int64(1), 1.5, int64(0))
	f.Add("\u2028", "\xff", "<&>\x01", int64(-1), 1e21, int64(1<<62))
	f.Fuzz(func(t *testing.T, msg, key, value string, n int64, x float64, ns int64) {
		ours, std := both(t, nil, func(h slog.Handler) {
			_ = h.WithAttrs([]slog.Attr{slog.String(value, key)}).Handle(context.Background(), record(slog.LevelInfo, msg,
				slog.String(key, value), slog.Int64(value, n), slog.Float64("x", x), slog.Time("t", time.Unix(0, ns)), slog.Duration(key, time.Duration(ns))))
		})
		if ours != std {
			t.Errorf("\n ours %s\n slog %s", ours, std)
		}
	})
}

func ExampleNewJSONHandler() {
	l := slog.New(NewJSONHandler(stdout{}, &slog.HandlerOptions{ReplaceAttr: nil}))
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "event purged", 0)
	r.AddAttrs(slog.String("id", "evt_1"), slog.Float64("duration_ms", 4.25))
	_ = l.Handler().Handle(context.Background(), r)
	// Output: {"level":"INFO","msg":"event purged","id":"evt_1","duration_ms":4.25}
}

type stdout struct{}

func (stdout) Write(p []byte) (int, error) { fmt.Print(string(p)); return len(p), nil }

// TestLogAttrsWritesWhatSlogWrites: a line logged through LogAttrs is the
// line slog.Logger.LogAttrs writes through slog.JSONHandler (the time
// aside, which each takes as it logs), on the fast path and the hand-over,
// and through another handler too.
func TestLogAttrsWritesWhatSlogWrites(t *testing.T) {
	attrs := []slog.Attr{slog.String("request_id", "r-1"), slog.String("id", "evt_1"), slog.String("source", "hook"),
		slog.String("type", "incident.updated"), slog.String("page", "p0"), slog.String("status", "purged"),
		slog.Int("http_status", 200), slog.Int("urls", 22), slog.Int("tags", 2), slog.Int("keys", 3), slog.Float64("duration_ms", 51.25)}
	now := regexp.MustCompile(`(?m)^\{"time":"[^"]+",`)
	for name, attrs := range map[string][]slog.Attr{
		"event":     attrs,
		"hand-over": append(attrs[:2:2], slog.Any("err", errors.New("x")), slog.Group("g", slog.Int("a", 1))),
		"none":      nil,
	} {
		var ours, std, other bytes.Buffer
		ctx := context.Background()
		LogAttrs(ctx, slog.New(NewJSONHandler(&ours, nil)).With("component", "pipeline"), slog.LevelWarn, "event purged", attrs...)
		slog.New(slog.NewJSONHandler(&std, nil)).With("component", "pipeline").LogAttrs(ctx, slog.LevelWarn, "event purged", attrs...)
		LogAttrs(ctx, slog.New(slog.NewJSONHandler(&other, nil)).With("component", "pipeline"), slog.LevelWarn, "event purged", attrs...)
		o, s, x := now.ReplaceAllString(ours.String(), "{"), now.ReplaceAllString(std.String(), "{"), now.ReplaceAllString(other.String(), "{")
		if o != s || x != s || !strings.HasSuffix(s, "}\n") {
			t.Errorf("%s:\n ours  %s\n slog  %s\n other %s", name, o, s, x)
		}
	}
	var buf bytes.Buffer
	LogAttrs(context.Background(), slog.New(NewJSONHandler(&buf, nil)), slog.LevelDebug, "below the level", attrs...)
	if buf.Len() != 0 {
		t.Errorf("a line below the level was written: %s", buf.String())
	}
}

// TestLogAttrsAllocatesNothing: an event's line, with its eleven
// attributes, costs no allocation (slog.Logger.LogAttrs costs one: the
// record's attributes past the fifth).
func TestLogAttrsAllocatesNothing(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewJSONHandler(&buf, nil)).With("component", "pipeline")
	attrs := make([]slog.Attr, 11)
	for i := range attrs {
		attrs[i] = slog.Int("n"+strconv.Itoa(i), i)
	}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		buf.Reset()
		LogAttrs(ctx, l, slog.LevelInfo, "event purged", attrs...)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per line, want 0", allocs)
	}
}
