package akamaistub

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge/akamai"
)

const (
	host   = "akab-stub-test.luna.akamaiapis.net"
	token  = "akab-client-stub"
	secret = "c3R1Yi1zZWNyZXQ="
	access = "akab-access-stub"
)

func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.Host = host
	opts.Clients = append(opts.Clients, Client{ClientToken: token, ClientSecret: secret, AccessToken: access})
	s := New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, base
}

// post sends body to path, signed by signer at ts unless signer is nil.
func post(t *testing.T, base, path, body string, signer *akamai.Signer, ts time.Time) (int, http.Header, map[string]any) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Host = host
	r.Header.Set("Content-Type", "application/json")
	if signer != nil {
		signed := r.Clone(r.Context())
		signed.URL.Scheme = "https"
		r.Header.Set("Authorization", signer.Authorization(signed, []byte(body), akamai.Timestamp(ts), akamai.NewNonce()))
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %s", res.StatusCode, data)
	}
	return res.StatusCode, res.Header, out
}

var good = &akamai.Signer{Credentials: akamai.Credentials{ClientToken: token, ClientSecret: secret, AccessToken: access}}

// A signed purge is accepted with Fast Purge's 201 and recorded; each
// authentication failure is the gateway's 401 with its detail, and
// purges nothing.
func TestSignatureChecks(t *testing.T) {
	s, base := start(t, Options{})
	body := `{"objects":["https://status.example.com/"]}`
	code, _, ans := post(t, base, "/ccu/v3/delete/url/production", body, good, time.Now())
	if code != 201 || ans["httpStatus"] != float64(201) || ans["estimatedSeconds"] != float64(DefaultEstimatedSeconds) || ans["purgeId"] == "" {
		t.Fatalf("signed purge: %d %v", code, ans)
	}
	wrongSecret := *good
	wrongSecret.ClientSecret = "d3Jvbmc="
	wrongToken := *good
	wrongToken.ClientToken = "akab-unknown"
	for name, tc := range map[string]struct {
		signer *akamai.Signer
		ts     time.Time
		detail string
	}{
		"unsigned":     {nil, time.Now(), DetailNoAuth},
		"secret":       {&wrongSecret, time.Now(), DetailSignature},
		"client token": {&wrongToken, time.Now(), DetailClientToken},
		"skew":         {good, time.Now().Add(-5 * time.Minute), DetailTimestamp},
	} {
		code, _, ans := post(t, base, "/ccu/v3/delete/url/production", `{"objects":["https://status.example.com/x"]}`, tc.signer, tc.ts)
		if code != 401 || ans["type"] != TypeAuthnDeny || ans["detail"] != tc.detail {
			t.Errorf("%s: %d %v", name, code, ans)
		}
	}
	if got := s.Purged("production"); len(got) != 1 {
		t.Errorf("purged %v, want the signed call's URL only", got)
	}
}

// A body over the limit is 413 before anything else; an unknown path 404.
func TestBodyLimitAndPaths(t *testing.T) {
	_, base := start(t, Options{MaxBody: 64})
	big := `{"objects":["https://status.example.com/` + strings.Repeat("x", 64) + `"]}`
	if code, _, ans := post(t, base, "/ccu/v3/delete/url/production", big, good, time.Now()); code != 413 || ans["httpStatus"] != float64(413) {
		t.Errorf("oversized: %d %v", code, ans)
	}
	if code, _, _ := post(t, base, "/ccu/v3/purge/url/production", `{"objects":["a"]}`, good, time.Now()); code != 404 {
		t.Errorf("unknown action: %d", code)
	}
	if code, _, _ := post(t, base, "/ccu/v3/delete/tag/production", `{"objects":[]}`, good, time.Now()); code != 400 {
		t.Errorf("no objects: %d", code)
	}
	if code, _, ans := post(t, base, "/ccu/v3/delete/tag/production", `{"objects":["page:p0"]}`, good, time.Now()); code != 400 || ans["title"] != "bad cache tag" {
		t.Errorf("a tag with ':': %d %v", code, ans)
	}
}

// Object buckets refuse a call whole with 429 and Akamai's headers,
// spending nothing; Retry-After only when asked.
func TestRateLimit(t *testing.T) {
	s, base := start(t, Options{TagRate: 0.001, TagBurst: 3})
	tags := func(n int) string {
		var b bytes.Buffer
		b.WriteString(`{"objects":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"t` + string(rune('a'+i)) + `"`)
		}
		b.WriteString("]}")
		return b.String()
	}
	code, h, ans := post(t, base, "/ccu/v3/invalidate/tag/staging", tags(4), good, time.Now())
	if code != 429 || ans["title"] != "Cache Tag Rate Limit exceeded" || h.Get("X-Ratelimit-Remaining-Objects") != "3" || h.Get("Retry-After") != "" {
		t.Errorf("over the burst: %d %v %v", code, ans, h)
	}
	if code, _, _ := post(t, base, "/ccu/v3/invalidate/tag/staging", tags(3), good, time.Now()); code != 201 {
		t.Errorf("within the burst after a refusal: %d (the refusal spent tokens?)", code)
	}
	if s.Throttled() != 1 || len(s.Purged("staging")) != 3 {
		t.Errorf("throttled %d, purged %v", s.Throttled(), s.Purged("staging"))
	}
	for _, c := range s.PurgeCalls() {
		if !c.Soft() {
			t.Errorf("an invalidation recorded as hard: %+v", c)
		}
	}
}
