package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/logging"
)

// NewLogger returns the process logger: JSON (or text) at the configured
// level. The JSON lines are slog.JSONHandler's, written by
// logging.JSONHandler (see there why).
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(logging.NewJSONHandler(w, opts))
}

// RedisLogger routes go-redis's own messages (pool dial failures...) into
// the process log instead of bare stderr lines.
type RedisLogger struct{ Log *slog.Logger }

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
