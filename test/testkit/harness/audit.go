package harness

import (
	"encoding/json"
	"net/http"

	"github.com/edgepurge/edgepurge/internal/audit"
)

// Purges reads GET /v1/purges with query until it lists at least n records
// (the audit trail is written in the background).
func (h *H) Purges(query string, n int) audit.Listing {
	h.T.Helper()
	var l audit.Listing
	for range 250 {
		req, _ := http.NewRequest(http.MethodGet, h.Base+"/v1/purges"+query, nil)
		req.Header.Set("Authorization", "Bearer "+TestAPIToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			h.T.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			h.T.Fatalf("GET /v1/purges%s: %d %v", query, resp.StatusCode, err)
		}
		if len(l.Records) >= n {
			return l
		}
		Sleep()
	}
	h.T.Fatalf("GET /v1/purges%s: %d records, want %d", query, len(l.Records), n)
	return l
}
