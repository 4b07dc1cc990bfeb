package cloudflare

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

const (
	testToken = "test_token-4f1c9e2a7b"
	testZone  = "023e105f4ecef8ad9ca31a8372d0c353"
)

// startStub serves a stand-in that accepts testToken and knows testZone.
func startStub(t *testing.T, opts cfstub.Options) (*cfstub.Server, string) {
	t.Helper()
	opts.Tokens = []string{testToken}
	opts.Zones = []string{testZone}
	s := cfstub.New(opts)
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

// urls returns n distinct URLs.
func urls(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://status.example.com/incidents/%03d", i)
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

// assertNoSecret fails if text carries the token or an Authorization header.
func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, secret := range []string{testToken, "wrong_token-secret", "Bearer", "Authorization", "authorization"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q leaks %q", text, secret)
		}
	}
}
