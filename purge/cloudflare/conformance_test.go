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

// TestConformanceLiveMode runs TestLive's harness against the stand-in, so
// that a live run can only fail for what the real API answers.
func TestConformanceLiveMode(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	live := purgetest.NewLive(t, "https://status.example.com/edgepurge-probe", "edgepurge-probe")
	purgetest.Run(t, liveHarness{base: base, live: live, token: testToken, zone: testZone})
}

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

// liveHarness purges the real API (TestLive), or base when set. Only URLs
// are split live: tag and prefix calls spend the plan's tag bucket (5 a
// minute on Free).
type liveHarness struct {
	base        string
	live        purgetest.Live
	token, zone string
}

func (h liveHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{
		Kinds:   purgetest.AllKinds,
		PerCall: map[purgetest.Kind]int{purgetest.URLs: 2},
		Lacks:   h.live.Lacks(nil),
	}
}

func (h liveHarness) Target(t *testing.T) *purgetest.Target {
	const wrong = "purgetest-not-a-token-0000000000000000000"
	tg := &purgetest.Target{
		Purger:  h.newPurger(t, Config{APIToken: purge.Secret(h.token), MaxURLsPerCall: 2}),
		Zone:    h.zone,
		Secrets: []string{h.token, wrong, "Bearer", "Authorization", "authorization"},
		BadZone: "00000000000000000000000000000000",
		BadCredential: func(t *testing.T) purge.Purger {
			return h.newPurger(t, Config{APIToken: wrong})
		},
	}
	h.live.Items(tg)
	return tg
}

func (h liveHarness) newPurger(t *testing.T, cfg Config) *Purger {
	t.Helper()
	cfg.BaseURL = h.base
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
