package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

// go-redis's lines carry its text under "detail" (a second "msg" would be
// a duplicate key), at most one per interval, with the count left out.
func TestRedisLoggerLinesAreStrictJSONAndRateLimited(t *testing.T) {
	var buf bytes.Buffer
	l := NewRedisLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	for range 5 {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts", 1)
	}
	defer func(d time.Duration) { redisLogEvery = d }(redisLogEvery)
	l.next, redisLogEvery = time.Time{}, 0
	l.Printf(context.Background(), "redis: again")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (the first, then the next interval's):\n%s", len(lines), buf.String())
	}
	for i, want := range []struct {
		detail string
		left   float64
	}{{"redis: connection pool: failed to dial after 1 attempts", 0}, {"redis: again", 4}} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %q: %v", lines[i], err)
		}
		if m["msg"] != "redis client" || m["detail"] != want.detail || m["left_out"] != want.left {
			t.Errorf("line %d = %v, want detail %q, left_out %v", i, m, want.detail, want.left)
		}
	}
}
