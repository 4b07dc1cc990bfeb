package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

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
// the process log instead of bare stderr lines.
type RedisLogger struct{ Log *slog.Logger }

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
