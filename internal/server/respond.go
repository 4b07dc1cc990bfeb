package server

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/valyala/fasthttp"
)

// errorBody is every non-purge answer's JSON.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// writeJSON answers status with v as JSON, encoded straight into the
// response's body buffer, which fasthttp reuses from request to request.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.ResetBody()
	if err := json.NewEncoder(ctx.Response.BodyWriter()).Encode(v); err != nil {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetBodyString(`{"error":"could not encode the answer"}` + "\n")
	}
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
