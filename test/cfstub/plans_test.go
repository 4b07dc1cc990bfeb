package cfstub

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Zones of different plans spend different buckets: a Free zone's empty
// bucket leaves a Pro zone's calls going.
func TestPlansHaveBucketsOfTheirOwn(t *testing.T) {
	const free, pro = "f0000000000000000000000000000000", "b0000000000000000000000000000000"
	_, base := start(t, Options{Tokens: []string{testToken}, FlexRate: 0.001, FlexBurst: 3,
		Plans: []Plan{{Name: "free", Zones: []string{free}, FlexRate: 0.001, FlexBurst: 1}}})
	tags := `{"tags":["a"]}`

	f1, f2 := purge(t, base, free, tags), purge(t, base, free, tags)
	p1, p2 := purge(t, base, pro, tags), purge(t, base, pro, tags)

	if f1.status != 200 || f2.status != http.StatusTooManyRequests {
		t.Errorf("free zone: %d %d, want 200 429", f1.status, f2.status)
	}
	if p1.status != 200 || p2.status != 200 {
		t.Errorf("pro zone after the free zone's 429: %d %d, want 200 200", p1.status, p2.status)
	}
}

// The edge's error 1015: 429, Retry-After: 30, an HTML page.
func TestEdgeRateLimitedPage(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(EdgeRateLimited(1))

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"zones/"+testZone+"/purge_cache", strings.NewReader(`{"tags":["a"]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()

	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "30" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), "1015") {
		t.Errorf("status %d headers %v body %.60q; want 429, Retry-After 30, an HTML page naming 1015", res.StatusCode, res.Header, page)
	}
	if r := purge(t, base, testZone, `{"tags":["a"]}`); r.status != 200 {
		t.Errorf("after the count: %d", r.status)
	}
}
