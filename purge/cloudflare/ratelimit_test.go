package cloudflare

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// The edge's error 1015 page is HTML, not the API's JSON: it is still a
// retryable 429 with its Retry-After.
func TestEdgeRateLimitPageIsA429(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	stub.SetFailure(cfstub.EdgeRateLimited(1))
	p := newPurger(t, base, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"a"}})

	pe := purgeError(t, err)
	if pe.StatusCode != 429 || !pe.Retryable || pe.RetryAfter != 30*time.Second || !slices.Contains(pe.Codes, CodeEdgeRateLimited) {
		t.Errorf("err = %+v, want a retryable 429, RetryAfter 30s, code 1015", pe)
	}
}

// A 429 without Retry-After waits for the Ratelimit header's reset of the
// exhausted limit.
func TestRatelimitHeaderWhenNoRetryAfter(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	stub.SetFailure(cfstub.Failure{Status: 429, Codes: []int{cfstub.CodeRateLimited}, Count: 1,
		Header: map[string]string{"Ratelimit": `"default";r=50;t=5, "purge";r=0;t=12`, "Ratelimit-Policy": `"purge";q=25;w=5`}})
	p := newPurger(t, base, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"a"}})

	if pe := purgeError(t, err); pe.StatusCode != 429 || !pe.Retryable || pe.RetryAfter != 12*time.Second {
		t.Errorf("err = %+v, want a retryable 429 with RetryAfter 12s", pe)
	}
}

func TestParseRatelimit(t *testing.T) {
	for v, want := range map[string]time.Duration{
		`"default";r=0;t=30`:                     30 * time.Second,
		`"default";r=50;t=30`:                    0,
		`"a";r=0;t=3, "b";r=0;t=9`:               9 * time.Second,
		``:                                       0,
		`garbage`:                                0,
		`"default";R=0;T=4`:                      4 * time.Second,
		`"default";r=0;t=x`:                      0,
		`"burst";q=100;w=60`:                     0,
		`"default";r=0;t=7;extra="a;b", "x";r=1`: 7 * time.Second,
	} {
		if got := parseRatelimit(v); got != want {
			t.Errorf("parseRatelimit(%q) = %v, want %v", v, got, want)
		}
	}
}
