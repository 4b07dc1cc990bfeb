package fastly

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/edgepurge/edgepurge/purge"
)

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

// userAgent identifies edgepurge's calls.
const userAgent = "edgepurge"

// call makes one API call: method on path (relative to the base URL, already
// escaped), with body encoded as JSON when not nil and Fastly-Soft-Purge
// when soft. A 2xx answer is decoded into out; anything else becomes a
// *purge.Error (see answerError and purge.Unanswered).
func (p *Purger) call(ctx context.Context, op, method, path string, body any, soft bool, out any) *purge.Error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return &purge.Error{Op: op, Message: "encode request: " + err.Error()}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.baseURL+path, rd)
	if err != nil {
		return &purge.Error{Op: op, Message: p.redact("build request: " + err.Error())}
	}
	req.Header.Set("Fastly-Key", p.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if soft {
		req.Header.Set("Fastly-Soft-Purge", "1")
	}
	res, err := p.hc.Do(req)
	if err != nil {
		return purge.Unanswered(ctx, op, err, p.token)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	// Drain what is left so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	_ = res.Body.Close()
	if err != nil {
		return purge.Unanswered(ctx, op, fmt.Errorf("read answer: %w", err), p.token)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return p.answerError(op, res, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		// Not Fastly's JSON: the call may or may not have gone through, and
		// purging again is harmless.
		return &purge.Error{Op: op, StatusCode: res.StatusCode, Retryable: true,
			Message: p.redact("unreadable answer: " + err.Error())}
	}
	return nil
}
