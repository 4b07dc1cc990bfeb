package akamai_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/test/akamaistub"
)

// The stand-in's test API client.
const (
	testHost         = "akab-test-host-0000000000000000.luna.akamaiapis.net"
	testClientToken  = "akab-client-token-test-0000000000"
	testClientSecret = "dGVzdC1jbGllbnQtc2VjcmV0LTAwMDAwMDAwMDAwMDA="
	testAccessToken  = "akab-access-token-test-0000000000"
	wrongSecret      = "d3Jvbmctc2VjcmV0LTAwMDAwMDAwMDAwMDAwMDAwMDA="
	pageHost         = "status.example.com"
)

// secrets must never appear in an error.
var secrets = []string{testClientSecret, testAccessToken, testClientToken, wrongSecret}

// startStub serves a stand-in that accepts the test client, and opts'.
func startStub(t *testing.T, opts akamaistub.Options) (*akamaistub.Server, string) {
	t.Helper()
	opts.Host = testHost
	opts.Clients = append(opts.Clients, akamaistub.Client{ClientToken: testClientToken, ClientSecret: testClientSecret, AccessToken: testAccessToken})
	s := akamaistub.New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start stub: %v", err)
	}
	t.Cleanup(s.Close)
	return s, base
}

// testConfig is the test client's config at base.
func testConfig(base string) akamai.Config {
	return akamai.Config{Host: testHost, ClientToken: testClientToken, ClientSecret: testClientSecret, AccessToken: testAccessToken, BaseURL: base}
}

// newPurger returns a Purger for cfg.
func newPurger(t *testing.T, cfg akamai.Config, opts ...akamai.Option) *akamai.Purger {
	t.Helper()
	p, err := akamai.New(cfg, opts...)
	if err != nil {
		t.Fatalf("new purger: %v", err)
	}
	return p
}

// urls returns n distinct URLs of pageHost.
func urls(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://%s/incidents/%03d", pageHost, i)
	}
	return out
}

// purgeError asserts that err is a *purge.Error free of secrets.
func purgeError(t *testing.T, err error) *purge.Error {
	t.Helper()
	pe := purge.AsError(err)
	if pe == nil {
		t.Fatalf("err = %v (%T), want a *purge.Error", err, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%q leaks a credential", err)
		}
	}
	return pe
}
