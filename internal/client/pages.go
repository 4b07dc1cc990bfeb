package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// HTTPError is a server's refusal: its status and message.
type HTTPError struct {
	Status  int
	Message string
	// ETag is the entry's current ETag, on a 412.
	ETag string
}

// Error implements error.
func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Page reads GET /v1/pages/{page_id} (incidentID may be empty).
func (c *Client) Page(ctx context.Context, pageID, incidentID string) (pages.View, error) {
	var v pages.View
	path := "/v1/pages/" + url.PathEscape(pageID)
	if incidentID != "" {
		path += "?incident_id=" + url.QueryEscape(incidentID)
	}
	err := c.pagesCall(ctx, http.MethodGet, path, nil, "", &v)
	return v, err
}

// SetPage writes PUT /v1/pages/{page_id} with the page's hostnames, zone
// (may be empty) and options (may be zero); ifMatch may be empty.
func (c *Client) SetPage(ctx context.Context, pageID string, hosts []string, zone string, options plan.Options, ifMatch string) (pages.Result, error) {
	var r pages.Result
	body := struct {
		Hosts        []string `json:"hosts"`
		Zone         string   `json:"zone,omitempty"`
		plan.Options `json:",inline"`
	}{hosts, zone, options}
	err := c.pagesCall(ctx, http.MethodPut, "/v1/pages/"+url.PathEscape(pageID), body, ifMatch, &r)
	return r, err
}

// DeletePage sends DELETE /v1/pages/{page_id}; ifMatch may be empty.
func (c *Client) DeletePage(ctx context.Context, pageID, ifMatch string) (pages.Result, error) {
	var r pages.Result
	err := c.pagesCall(ctx, http.MethodDelete, "/v1/pages/"+url.PathEscape(pageID), nil, ifMatch, &r)
	return r, err
}

// PageList is one answer of GET /v1/pages.
type PageList struct {
	Pages  []pages.Entry `json:"pages"`
	Cursor string        `json:"cursor,omitempty"`
}

// Pages reads GET /v1/pages from cursor ("" to start).
func (c *Client) Pages(ctx context.Context, cursor string, limit int, host string) (PageList, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if host != "" {
		q.Set("host", host)
	}
	path := "/v1/pages"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l PageList
	err := c.pagesCall(ctx, http.MethodGet, path, nil, "", &l)
	return l, err
}

// pagesCall sends one request of the pages API and decodes its answer
// into out; a refusal is an *HTTPError.
func (c *Client) pagesCall(ctx context.Context, method, path string, body any, ifMatch string, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		if ifMatch != "*" && ifMatch[0] != '"' {
			ifMatch = `"` + ifMatch + `"`
		}
		req.Header.Set("If-Match", ifMatch)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s via %s: %w", method, path, c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
			ETag  string `json:"etag"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%.200s", raw)
		}
		return &HTTPError{Status: resp.StatusCode, Message: e.Error + c.authHint(resp.StatusCode), ETag: e.ETag}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}
