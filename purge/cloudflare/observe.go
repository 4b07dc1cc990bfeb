package cloudflare

import (
	"net/http"
	"strings"
)

// ObservingTransport wraps next (nil: http.DefaultTransport) so that observe
// is told the zone and HTTP status of every purge_cache call (status 0 when
// no answer arrived). Give it to Config.HTTPClient to count the CDN's
// answers by zone without touching the purge path.
func ObservingTransport(next http.RoundTripper, observe func(zone string, status int)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return observingTransport{next: next, observe: observe}
}

type observingTransport struct {
	next    http.RoundTripper
	observe func(zone string, status int)
}

func (t observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if zone, ok := purgeZone(req.URL.Path); ok {
		status := 0
		if err == nil {
			status = res.StatusCode
		}
		t.observe(zone, status)
	}
	return res, err
}

// purgeZone returns the zone of a ".../zones/{id}/purge_cache" path.
func purgeZone(path string) (string, bool) {
	rest, ok := strings.CutSuffix(path, "/purge_cache")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "/zones/")
	if i < 0 {
		return "", false
	}
	return rest[i+len("/zones/"):], true
}
