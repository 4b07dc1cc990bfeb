package akamai_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/akamaistub"
)

// A hard purge deletes and a soft one invalidates, on the configured
// network, URLs and tags in calls of their own; the estimate is reported.
func TestActionsNetworksAndEstimate(t *testing.T) {
	stub, base := startStub(t, akamaistub.Options{EstimatedSeconds: 7})
	var mu sync.Mutex
	var estimates []time.Duration
	cfg := testConfig(base)
	cfg.Network = "staging"
	p := newPurger(t, cfg, akamai.OnEstimate(func(d time.Duration) { mu.Lock(); estimates = append(estimates, d); mu.Unlock() }))
	ctx := context.Background()
	res, err := p.Purge(ctx, purge.Request{URLs: urls(2), Tags: []string{"page-abc"}})
	if err != nil || res != (purge.Result{Items: 3, Calls: 2}) {
		t.Fatalf("hard purge: %+v, %v", res, err)
	}
	if _, err := p.Purge(ctx, purge.Request{URLs: urls(1), Soft: true}); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range stub.PurgeCalls() {
		paths = append(paths, c.Path)
	}
	want := []string{"/ccu/v3/delete/url/staging", "/ccu/v3/delete/tag/staging", "/ccu/v3/invalidate/url/staging"}
	slices.Sort(paths)
	slices.Sort(want)
	if !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
	if got := stub.Purged("staging"); len(got) != 3 || got["page-abc"].IsZero() || got[urls(1)[0]].IsZero() {
		t.Errorf("purged on staging: %v", got)
	}
	if len(stub.Purged("production")) != 0 {
		t.Error("production purged")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(estimates) != 3 || estimates[0] != 7*time.Second {
		t.Errorf("estimates %v, want three of 7s", estimates)
	}
}

// Long URLs are split so that no body exceeds Fast Purge's 50,000 bytes,
// and every URL is purged once.
func TestBodyLimitSplitsCalls(t *testing.T) {
	stub, base := startStub(t, akamaistub.Options{})
	cfg := testConfig(base)
	cfg.MaxObjectsPerCall = 10000
	p := newPurger(t, cfg)
	long := make([]string, 300)
	for i := range long {
		long[i] = urls(i + 1)[i] + "?" + strings.Repeat("q", 400)
	}
	res, err := p.Purge(context.Background(), purge.Request{URLs: long})
	if err != nil {
		t.Fatal(err)
	}
	calls := stub.PurgeCalls()
	if res.Items != len(long) || res.Calls < 3 || res.Calls != len(calls) {
		t.Errorf("result %+v over %d calls", res, len(calls))
	}
	for _, c := range calls {
		body, _ := json.Marshal(map[string][]string{"objects": c.Items})
		if len(body) > akamai.MaxBodyBytes || c.Status != http.StatusCreated {
			t.Errorf("a call of %d bytes answered %d", len(body), c.Status)
		}
	}
	if len(stub.Purged("production")) != len(long) {
		t.Errorf("purged %d of %d", len(stub.Purged("production")), len(long))
	}
}

// The stand-in refuses a body over the limit with 413, permanently.
func TestOversizedBodyIs413(t *testing.T) {
	_, base := startStub(t, akamaistub.Options{MaxBody: 200})
	p := newPurger(t, testConfig(base))
	_, err := p.Purge(context.Background(), purge.Request{URLs: urls(10)})
	pe := purgeError(t, err)
	if pe.StatusCode != http.StatusRequestEntityTooLarge || pe.Retryable {
		t.Errorf("err %v: want a permanent 413", err)
	}
}

// Hosts, prefixes and everything are refused whole before any call.
func TestRefusesWhatFastPurgeCannot(t *testing.T) {
	stub, base := startStub(t, akamaistub.Options{})
	p := newPurger(t, testConfig(base))
	for _, req := range []purge.Request{
		{URLs: urls(1), Hosts: []string{pageHost}},
		{Prefixes: []string{pageHost + "/incidents/"}},
		{Everything: true},
		{URLs: []string{"/relative"}},
		{Tags: []string{"page:abc"}},
		{Tags: []string{strings.Repeat("t", akamai.MaxTagLength+1)}},
	} {
		_, err := p.Purge(context.Background(), req)
		if pe := purgeError(t, err); pe.Retryable || !strings.Contains(err.Error(), "nothing was purged") {
			t.Errorf("%+v: err %v", req, err)
		}
	}
	if n := len(stub.PurgeCalls()); n != 0 {
		t.Errorf("%d calls made", n)
	}
}

// Each wrong credential, a skewed clock and a wrong host are 401s that say
// what to fix; a client without the grant is a 403 naming it.
func TestAuthFailuresNameTheFix(t *testing.T) {
	stub, base := startStub(t, akamaistub.Options{Clients: []akamaistub.Client{
		{ClientToken: "akab-readonly", ClientSecret: testClientSecret, AccessToken: testAccessToken, NoPurge: true}}})
	for name, tc := range map[string]struct {
		change     func(*akamai.Config)
		status     int
		detail     string
		fix        string
		permission string
	}{
		"client token": {func(c *akamai.Config) { c.ClientToken = "akab-unknown" }, 401, akamaistub.DetailClientToken, "AKAMAI_CLIENT_TOKEN", ""},
		"access token": {func(c *akamai.Config) { c.AccessToken = "akab-wrong-access" }, 401, akamaistub.DetailAccessToken, "AKAMAI_ACCESS_TOKEN", ""},
		"secret":       {func(c *akamai.Config) { c.ClientSecret = wrongSecret }, 401, akamaistub.DetailSignature, "AKAMAI_CLIENT_SECRET", ""},
		"clock": {func(c *akamai.Config) { c.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } },
			401, akamaistub.DetailTimestamp, "clock", ""},
		"host":       {func(c *akamai.Config) { c.Host = "akab-other.luna.akamaiapis.net" }, 401, akamaistub.DetailHost, "AKAMAI_HOST", ""},
		"permission": {func(c *akamai.Config) { c.ClientToken = "akab-readonly" }, 403, "", "CCU APIs", akamai.PermissionFastPurge},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(base)
			tc.change(&cfg)
			_, err := newPurger(t, cfg).Purge(context.Background(), purge.Request{URLs: urls(1)})
			pe := purgeError(t, err)
			if pe.StatusCode != tc.status || pe.Retryable || pe.Permission != tc.permission {
				t.Errorf("err %v (status %d, retryable %t, permission %q)", err, pe.StatusCode, pe.Retryable, pe.Permission)
			}
			if !strings.Contains(err.Error(), tc.detail) || !strings.Contains(err.Error(), tc.fix) {
				t.Errorf("err %q: want %q and the fix %q", err, tc.detail, tc.fix)
			}
		})
	}
	if n := len(stub.Purged("production")); n != 0 {
		t.Errorf("%d objects purged by refused calls", n)
	}
}

// A 429 is retryable; without Retry-After (Akamai documents none) it
// waits the five seconds Akamai's docs advise, with one it waits that.
func TestRateLimited(t *testing.T) {
	for _, withHeader := range []bool{false, true} {
		stub, base := startStub(t, akamaistub.Options{TagRate: 0.01, TagBurst: 2, RetryAfter: withHeader})
		p := newPurger(t, testConfig(base))
		if _, err := p.Purge(context.Background(), purge.Request{Tags: []string{"a", "b"}}); err != nil {
			t.Fatal(err)
		}
		_, err := p.Purge(context.Background(), purge.Request{Tags: []string{"c"}})
		pe := purgeError(t, err)
		if pe.StatusCode != 429 || !pe.Retryable || !strings.Contains(err.Error(), "Rate Limit exceeded") {
			t.Errorf("Retry-After %t: err %v", withHeader, err)
		}
		if !withHeader && pe.RetryAfter != akamai.DefaultRateLimitWait {
			t.Errorf("no Retry-After: wait %v, want %v", pe.RetryAfter, akamai.DefaultRateLimitWait)
		}
		if withHeader && pe.RetryAfter < 10*time.Second {
			t.Errorf("Retry-After: wait %v, want the stand-in's (about 100 s)", pe.RetryAfter)
		}
		if stub.Throttled() != 1 || len(stub.Purged("production")) != 2 {
			t.Errorf("throttled %d, purged %v", stub.Throttled(), stub.Purged("production"))
		}
	}
}

// Credentials come from an .edgerc section, the config's own fields
// winning; a missing file or section is a config error naming it.
func TestEdgeRC(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".edgerc")
	rc := "[default]\nhost = akab-default.luna.akamaiapis.net\nclient_token = ct-default\nclient_secret = cs-default\naccess_token = at-default\n\n" +
		"; a comment\n[purge]\nhost = https://" + testHost + "/\nclient_token = " + testClientToken + "\nclient_secret = \"" + testClientSecret + "\"\naccess_token = " + testAccessToken + "\nmax_body = 131072\n"
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	stub, base := startStub(t, akamaistub.Options{})
	cfg := akamai.Config{EdgeRC: path, Section: "purge", BaseURL: base}
	if !cfg.Enabled() {
		t.Fatal("an .edgerc alone does not enable Akamai")
	}
	cfg.SetDefaults()
	if errs := cfg.Validate(); len(errs) != 0 {
		t.Fatalf("validate: %v", errs)
	}
	if cfg.Host != testHost {
		t.Errorf("host %q", cfg.Host)
	}
	if _, err := newPurger(t, cfg).Purge(context.Background(), purge.Request{Tags: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if len(stub.Purged("production")) != 1 {
		t.Error("nothing purged")
	}
	over := akamai.Config{EdgeRC: path, ClientToken: "ct-override"}
	over.SetDefaults()
	if over.ClientToken != "ct-override" || over.AccessToken != "at-default" {
		t.Errorf("config over file: %+v", over.Credentials())
	}
	for _, bad := range []akamai.Config{{EdgeRC: filepath.Join(dir, "missing")}, {EdgeRC: path, Section: "nope"}} {
		bad.SetDefaults()
		errs := bad.Validate()
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), "akamai.edgerc") {
			t.Errorf("%+v: %v", bad, errs)
		}
	}
	incomplete := akamai.Config{ClientToken: "x"}
	incomplete.SetDefaults()
	if errs := incomplete.Validate(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "AKAMAI_HOST") ||
		!strings.Contains(errs[0].Error(), "AKAMAI_EDGERC") {
		t.Errorf("incomplete credentials: %v", errs)
	}
}

// The budget is 90 % of Fast Purge's object buckets, per minute as Fast
// Purge counts them; rate_limit sets either, calls_per_second being tags.
func TestLimits(t *testing.T) {
	l := akamai.Config{}.Limits()
	if l.URLs != (ratelimit.Rate{Count: 10800, Period: time.Minute, Burst: 9000}) ||
		l.Tags != (ratelimit.Rate{Count: 450, Period: time.Minute, Burst: 4500}) || !l.TagsApart() {
		t.Errorf("default limits %+v", l)
	}
	l = akamai.Config{RateLimit: ratelimit.Config{URLsPerSecond: 100, CallsPerSecond: 7.5, CallBurst: 10}}.Limits()
	if l.URLs != (ratelimit.Rate{Count: 6000, Period: time.Minute, Burst: 9000}) ||
		l.Tags != (ratelimit.Rate{Count: 450, Period: time.Minute, Burst: 10}) {
		t.Errorf("configured limits %+v", l)
	}
}

// Akamai's cache tags: at most 128 characters, alphanumeric and
// [!#$%'+./^_`|~-]; a template's placeholders are not judged.
func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"page-abc": true, "a.b_c~d|e^f'g+h!i#j$k%l`m": true, strings.Repeat("t", 128): true,
		"": false, "page:abc": false, "a b": false, "a,b": false, "a*b": false, strings.Repeat("t", 129): false, "é": false,
	} {
		if got := akamai.ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %t", tag, got)
		}
	}
	if _, ok := akamai.ValidTagTemplate("page-{page_id}"); !ok {
		t.Error("page-{page_id} refused")
	}
	if bad, ok := akamai.ValidTagTemplate("page:{page_id}"); ok || bad != ':' {
		t.Errorf("page:{page_id}: %q %t", bad, ok)
	}
}

// Fast Purge refuses non-ASCII URLs: a path or query is sent
// percent-encoded, as the edge caches it; a non-ASCII host is refused.
func TestNonASCIIURLsAreEncoded(t *testing.T) {
	stub, base := startStub(t, akamaistub.Options{})
	p := newPurger(t, testConfig(base))
	if _, err := p.Purge(context.Background(), purge.Request{URLs: []string{"https://status.example.com/incidents/dévops?q=é"}}); err != nil {
		t.Fatal(err)
	}
	want := "https://status.example.com/incidents/d%C3%A9vops?q=%C3%A9"
	if _, ok := stub.Purged("production")[want]; !ok {
		t.Errorf("purged %v, want %s", stub.Purged("production"), want)
	}
	_, err := p.Purge(context.Background(), purge.Request{URLs: []string{"https://stätus.example.com/"}})
	if pe := purgeError(t, err); pe.Retryable || !strings.Contains(err.Error(), "non-ASCII host") {
		t.Errorf("non-ASCII host: %v", err)
	}
}
