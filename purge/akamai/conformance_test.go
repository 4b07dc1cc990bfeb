package akamai_test

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge"
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
