package server

import (
	"crypto/rand"
	"encoding/hex"
	"runtime/debug"
	"strings"

	"github.com/valyala/fasthttp"
)

const requestIDKey = "request_id"

// recoverPanics turns a panic anywhere below h into a logged, counted 500,
// and keeps the server serving. It also gives every request an id.
func (s *Server) recoverPanics(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		id := string(ctx.Request.Header.Peek("X-Request-Id"))
		if !validRequestID(id) {
			id = newID("req_")
		}
		ctx.SetUserValue(requestIDKey, id)
		ctx.Response.Header.Set("X-Request-Id", id)
		if s.draining.Load() {
			ctx.SetConnectionClose()
		}
		defer func() {
			if p := recover(); p != nil {
				s.cfg.Metrics.Panics.Inc()
				s.log.Error("panic in handler", "request_id", id, "path", loggablePath(ctx.Path()),
					"panic", p, "stack", string(debug.Stack()))
				ctx.ResetBody()
				s.fail(ctx, fasthttp.StatusInternalServerError, "internal error")
			}
		}()
		h(ctx)
	}
}

func requestID(ctx *fasthttp.RequestCtx) string {
	id, _ := ctx.UserValue(requestIDKey).(string)
	return id
}

// validRequestID accepts a caller's request id only if it is short and
// plain, so it cannot forge log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// loggablePath is a request path fit for the log: the Statuspage token in
// the path is a secret.
func loggablePath(path []byte) string {
	if p, ok := strings.CutPrefix(string(path), statuspagePrefix); ok && p != "" {
		return statuspagePrefix + "[redacted]"
	}
	return sanitize(string(path))
}
