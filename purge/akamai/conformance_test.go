package akamai_test

import (
	"fmt"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/purgetest"
	"github.com/edgepurge/edgepurge/test/akamaistub"
)

// TestConformance runs the contract every purger meets against the
// stand-in.
func TestConformance(t *testing.T) { purgetest.Run(t, stubHarness{}) }

// kinds are the kinds Fast Purge purges as edgepurge maps them.
var kinds = []purgetest.Kind{purgetest.URLs, purgetest.Tags}

// perCall is the objects per call the suite's purgers are built with.
const perCall = 3

// stubHarness builds each case's purger against a fresh akamaistub.
type stubHarness struct{}

func (stubHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{
		Kinds:   kinds,
		PerCall: map[purgetest.Kind]int{purgetest.URLs: perCall, purgetest.Tags: perCall},
		Lacks:   map[purgetest.Capability]string{purgetest.Zones: "Fast Purge purges account-wide: a request names no zone"},
	}
}

func (stubHarness) Target(t *testing.T) *purgetest.Target {
	stub, base := startStub(t, akamaistub.Options{})
	cfg := testConfig(base)
	cfg.MaxObjectsPerCall = perCall
	return &purgetest.Target{
		Purger:  newPurger(t, cfg),
		Secrets: append(secrets, "Authorization"),
		// Akamai's cache tags allow no ':' (the suite's default tags have one).
		Tag: func(i int) string { return fmt.Sprintf("purgetest-%03d", i) },
		Calls: func() []purgetest.Call {
			var out []purgetest.Call
			for _, c := range stub.PurgeCalls() {
				out = append(out, purgetest.Call{Kind: stubKinds[c.Kind], Items: c.Items, Status: c.Status})
			}
			return out
		},
		Fail: func(f purgetest.Failure) {
			stub.SetFailure(akamaistub.Failure{Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count})
		},
		Hang:    func() { stub.Hang(true) },
		Waiting: stub.Waiting,
		Down:    stub.Close,
		BadCredential: func(t *testing.T) purge.Purger {
			bad := testConfig(base)
			bad.ClientSecret = wrongSecret
			return newPurger(t, bad)
		},
	}
}

// stubKinds maps the stand-in's object kinds to the suite's.
var stubKinds = map[string]purgetest.Kind{akamaistub.KindURL: purgetest.URLs, akamaistub.KindTag: purgetest.Tags}

// TestConformanceLiveMode runs TestLive's harness against the stand-in, so
// that a live run can only fail for what the real API answers.
func TestConformanceLiveMode(t *testing.T) {
	_, base := startStub(t, akamaistub.Options{})
	cfg := testConfig(base)
	live := purgetest.NewLive(t, "https://"+pageHost+"/edgepurge-probe", "edgepurge-probe")
	purgetest.Run(t, liveHarness{live: live, cfg: cfg, wrongSecret: wrongSecret})
}

// liveHarness invalidates on the real API (TestLive: staging unless
// AKAMAI_NETWORK says otherwise), or on the stand-in of cfg.BaseURL.
type liveHarness struct {
	live        purgetest.Live
	cfg         akamai.Config
	wrongSecret string
}

func (h liveHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{
		Kinds:   kinds,
		PerCall: map[purgetest.Kind]int{purgetest.URLs: 2, purgetest.Tags: 2},
		Lacks:   h.live.Lacks(map[purgetest.Capability]string{purgetest.Zones: "Fast Purge purges account-wide: a request names no zone"}),
	}
}

func (h liveHarness) Target(t *testing.T) *purgetest.Target {
	cfg := h.cfg
	cfg.MaxObjectsPerCall = 2
	cfg.SoftPurge = true // a live run only ever invalidates
	tg := &purgetest.Target{
		Purger:  newPurger(t, cfg),
		Secrets: []string{cfg.ClientSecret.Value(), cfg.AccessToken.Value(), cfg.ClientToken.Value(), h.wrongSecret, "Authorization"},
		BadCredential: func(t *testing.T) purge.Purger {
			bad := cfg
			bad.ClientSecret = purge.Secret(h.wrongSecret)
			return newPurger(t, bad)
		},
	}
	h.live.Items(tg)
	return tg
}
