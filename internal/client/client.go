// Package client talks to a running edgepurge over HTTP: the CLI's manual
// purge and health probe.
package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/event"
)

// Client calls one edgepurge server.
type Client struct {
	base  string
	token string
	http  *http.Client
	// TokenFrom names where the token came from (--token or
	// EDGEPURGE_API_TOKEN), so that a refusal names the one to fix.
	TokenFrom string
}

// New returns a Client for the server at base (e.g. http://127.0.0.1:8080),
// sending token as the bearer token.
func New(base, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: hc}
}

// Response is a server's answer to a manual purge: the HTTP status and
// either a purge answer or an error message.
type Response struct {
	StatusCode int
	Answer     *chain.Answer
	Error      string
	// Raw is the body as received.
	Raw []byte
}

// OK reports whether the server purged everything (or dry-ran).
func (r Response) OK() bool {
	return r.StatusCode == http.StatusOK && r.Answer != nil && r.Answer.OK()
}

// Purge sends a manual purge.
func (c *Client) Purge(ctx context.Context, req event.ManualRequest) (Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("encode purge request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/purge", bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("build purge request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return Response{}, fmt.Errorf("purge via %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return Response{}, fmt.Errorf("read purge answer: %w", err)
	}
	out := Response{StatusCode: resp.StatusCode, Raw: raw}
	var probe struct {
		Error  string `json:"error"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return out, fmt.Errorf("purge answer (HTTP %d) is not JSON: %.200s", resp.StatusCode, raw)
	}
	if probe.Status != "" {
		var a chain.Answer
		if err := json.Unmarshal(raw, &a); err != nil {
			return out, fmt.Errorf("decode purge answer: %w", err)
		}
		out.Answer = &a
	}
	out.Error = probe.Error + c.authHint(resp.StatusCode)
	return out, nil
}

// authHint says how to give the API token when the server refused it.
func (c *Client) authHint(status int) string {
	switch {
	case status != http.StatusUnauthorized:
		return ""
	case c.token == "":
		return "; no API token was sent: pass --token or set EDGEPURGE_API_TOKEN (the server's auth.api_token)"
	}
	return "; the server refused the API token given by " + cmp.Or(c.TokenFrom, "--token or EDGEPURGE_API_TOKEN") + ": it must equal the server's auth.api_token (EDGEPURGE_API_TOKEN)"
}

// Ready asks the readiness endpoint at url and returns nil when it answers 200.
func Ready(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusNotFound { // a wrong path, not an unready server
		return errors.New("HTTP 404: no such endpoint; give /readyz (readiness) or /healthz (liveness)")
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}
