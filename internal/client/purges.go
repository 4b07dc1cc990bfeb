package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/edgepurge/edgepurge/internal/audit"
)

// Purges reads the audit trail (GET /v1/purges), newest first.
func (c *Client) Purges(ctx context.Context, f audit.Filter) (audit.Listing, error) {
	q := url.Values{}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	for k, v := range map[string]string{"page_id": f.PageID, "status": f.Status, "source": f.Source} {
		if v != "" {
			q.Set(k, v)
		}
	}
	u := c.base + "/v1/purges"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return audit.Listing{}, fmt.Errorf("build purges request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return audit.Listing{}, fmt.Errorf("list purges via %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return audit.Listing{}, fmt.Errorf("read purges: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return audit.Listing{}, fmt.Errorf("list purges: HTTP %d: %s%s", resp.StatusCode, e.Error, c.authHint(resp.StatusCode))
	}
	var l audit.Listing
	if err := json.Unmarshal(raw, &l); err != nil {
		return audit.Listing{}, fmt.Errorf("decode purges: %w", err)
	}
	return l, nil
}

// recordLine has fixed column widths, not a tabwriter's, so that the lines
// --follow prints over time stay aligned with the header (a value longer
// than its column pushes only its own line).
const recordLine = "%-20s  %-10s  %-35s  %-12s  %-9s  %4s  %5s  %4s  %4s  %7s  %s\n"

// recordTime is UTC with its zone shown, so that a reader never has to
// guess the zone of the machine that printed it (TZ differs across hosts).
const recordTime = "2006-01-02 15:04:05Z"

// WriteRecords prints one line per purge record, in the given order,
// after a header line when header is set.
func WriteRecords(w io.Writer, recs []audit.Record, header bool) {
	if header {
		fmt.Fprintf(w, recordLine, "TIME", "SOURCE", "ID", "PAGE", "STATUS", "HTTP", "URLS", "TAGS", "KEYS", "MS", "BACKENDS")
	}
	for _, r := range recs {
		httpStatus := "-"
		if r.HTTPStatus != 0 {
			httpStatus = strconv.Itoa(r.HTTPStatus)
		}
		page := r.Page
		if page == "" {
			page = "-"
		}
		backends := make([]string, 0, len(r.Results))
		for _, b := range r.Results {
			s := fmt.Sprintf("%s=%s/%d", b.Backend, b.Status, b.Items)
			if b.Error != "" {
				s += " (" + b.Error + ")"
			}
			backends = append(backends, s)
		}
		fmt.Fprintf(w, recordLine, r.Time.UTC().Format(recordTime), r.Source, r.ID, page, r.Status, httpStatus,
			strconv.Itoa(r.Plan.URLs), strconv.Itoa(r.Plan.Tags), strconv.Itoa(r.Plan.Keys), strconv.FormatFloat(r.DurationMS, 'f', 1, 64), strings.Join(backends, " "))
	}
}
