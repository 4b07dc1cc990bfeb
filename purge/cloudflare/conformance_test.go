package cloudflare

import (
	"net/http"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/purgetest"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// TestConformance runs the contract every purger meets against the
// stand-in.
func TestConformance(t *testing.T) { purgetest.Run(t, stubHarness{}) }

// perCall are the limits the suite's purgers are built with.
var perCall = map[purgetest.Kind]int{purgetest.URLs: 3, purgetest.Tags: 2, purgetest.Hosts: 2, purgetest.Prefixes: 2}

// stubHarness builds each case's purger against a fresh cfstub.
type stubHarness struct{}

func (stubHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{Kinds: purgetest.AllKinds, PerCall: perCall}
}

func (stubHarness) Target(t *testing.T) *purgetest.Target {
	stub, base := startStub(t, cfstub.Options{})
	const wrong = "wrong_token-secret"
	return &purgetest.Target{
		Purger:  newPurger(t, base, Config{MaxURLsPerCall: perCall[purgetest.URLs], MaxItemsPerCall: perCall[purgetest.Tags]}),
		Zone:    testZone,
		Secrets: []string{testToken, wrong, "Bearer", "Authorization", "authorization"},
		Calls: func() []purgetest.Call {
			var out []purgetest.Call
			for _, c := range stub.PurgeCalls() {
				out = append(out, purgetest.Call{Kind: kinds[c.Kind], Items: c.Items, Status: c.Status})
			}
			return out
		},
		Fail: func(f purgetest.Failure) {
			stub.SetFailure(cfstub.Failure{Status: f.Status, Codes: failureCodes[f.Status], RetryAfter: f.RetryAfter, Count: f.Count})
		},
		Hang:    func() { stub.Hang(true) },
		Waiting: stub.Waiting,
		Down:    stub.Close,
		BadZone: "nope",
		BadCredential: func(t *testing.T) purge.Purger {
			return newPurger(t, base, Config{APIToken: wrong})
		},
	}
}

// kinds maps the stand-in's purge kinds to the suite's.
var kinds = map[string]purgetest.Kind{
	cfstub.KindFiles: purgetest.URLs, cfstub.KindTags: purgetest.Tags, cfstub.KindHosts: purgetest.Hosts,
	cfstub.KindPrefixes: purgetest.Prefixes, cfstub.KindEverything: purgetest.Everything,
}

// failureCodes are the error codes Cloudflare sends with an injected status.
var failureCodes = map[int][]int{
	http.StatusTooManyRequests: {cfstub.CodeRateLimited},
	http.StatusForbidden:       {cfstub.CodeAuthError},
	http.StatusBadGateway:      {10000},
}
