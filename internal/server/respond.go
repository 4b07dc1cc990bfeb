package server

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/fanout"
)

// errorBody is every non-purge answer's JSON.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// writeJSON answers status with v as JSON.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = fasthttp.StatusInternalServerError
		b = []byte(`{"error":"could not encode the answer"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// writeAnswer answers status with a purge's answer, encoded straight
// into the response body (the same bytes writeJSON would write).
func writeAnswer(ctx *fasthttp.RequestCtx, status int, a *fanout.Answer) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	buf := ctx.Response.SwapBody(nil)
	b, err := fanout.AppendJSON(buf[:0], a)
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		b = append(b[:0], `{"error":"could not encode the answer"}`...)
	}
	ctx.Response.SwapBody(append(b, '\n'))
}

// fail answers status with msg.
func (s *Server) fail(ctx *fasthttp.RequestCtx, status int, msg string) {
	writeJSON(ctx, status, errorBody{Error: msg, RequestID: requestID(ctx)})
}

// isJSON reports whether the request says its body is JSON.
func isJSON(ctx *fasthttp.RequestCtx) bool {
	ct := string(ctx.Request.Header.ContentType())
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || (strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json"))
}

// sanitize makes outside input safe to echo in a message: printable,
// bounded.
func sanitize(s string) string {
	const max = 64
	var b strings.Builder
	for i, r := range s {
		if i >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}
