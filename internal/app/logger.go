package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
)

// NewLogger returns the process logger: slog's JSON (or text) lines at
// the configured level.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// RedisLogger routes go-redis's own messages (pool dial failures...) into
// the process log. With Redis down go-redis writes one per dial, twice a
// second, so a line is written at most once per redisLogEvery, with the
// count of those left out. The library's text goes under "detail": "msg"
// is slog's, and a second "msg" is a duplicate key strict readers refuse.
type RedisLogger struct {
	log  *slog.Logger
	mu   sync.Mutex
	next time.Time
	left int
}

// redisLogEvery is the least time between two go-redis lines.
var redisLogEvery = 10 * time.Second

// NewRedisLogger returns go-redis's logger (redis.SetLogger) writing to log.
func NewRedisLogger(log *slog.Logger) *RedisLogger { return &RedisLogger{log: log} }

// Printf implements go-redis's logging interface.
func (l *RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	now, left := time.Now(), l.left
	write := !now.Before(l.next)
	if write {
		l.next, l.left = now.Add(redisLogEvery), 0
	} else {
		l.left++
	}
	l.mu.Unlock()
	if write {
		l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...), "left_out", left)
	}
}
