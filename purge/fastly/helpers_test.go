package fastly

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

const (
	testToken   = "fastly-test-token-4f1c9e2a7b"
	wrongToken  = "wrong-token-secret-9d8c7b"
	testService = "SU1Z0isxPaozGVKXdv0eY"
	testHost    = "status.example.com"
)

// startStub serves a stand-in that accepts testToken, knows testService
// and files testHost's URL purges under it; opts may add tokens.
func startStub(t *testing.T, opts fastlystub.Options) (*fastlystub.Server, string) {
	t.Helper()
	opts.Tokens = append(opts.Tokens, testToken)
	opts.Services = []string{testService}
	opts.Domains = map[string]string{testHost: testService}
	s := fastlystub.New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start stub: %v", err)
	}
	t.Cleanup(s.Close)
	return s, base
}

// newPurger returns a Purger at base; cfg's token defaults to testToken.
func newPurger(t *testing.T, base string, cfg Config) *Purger {
	t.Helper()
	cfg.BaseURL = base
	if cfg.APIToken == "" {
		cfg.APIToken = testToken
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("new purger: %v", err)
	}
	return p
}

// urls returns n distinct URLs of testHost.
func urls(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://%s/incidents/%03d", testHost, i)
	}
	return out
}

// keys returns n distinct surrogate keys.
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("page:%03d", i)
	}
	return out
}

// purgeError asserts that err is a *purge.Error and returns it.
func purgeError(t *testing.T, err error) *purge.Error {
	t.Helper()
	pe := purge.AsError(err)
	if pe == nil {
		t.Fatalf("err = %v (%T), want a *purge.Error", err, err)
	}
	return pe
}

// assertNoSecret fails if text carries a token or the header carrying it.
func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, secret := range []string{testToken, wrongToken, "Fastly-Key", "fastly-key"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q leaks %q", text, secret)
		}
	}
}
