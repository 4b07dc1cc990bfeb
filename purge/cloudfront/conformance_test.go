package cloudfront

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/purgetest"
	"github.com/edgepurge/edgepurge/test/cloudfrontstub"
)

// TestConformance runs the contract every purger meets against the
// stand-in, through the real SDK.
func TestConformance(t *testing.T) { purgetest.Run(t, stubHarness{}) }

// kinds are the kinds CloudFront purges: no tags, and hosts only for a
// distribution serving one host alone (which the suite's hosts are not).
var kinds = []purgetest.Kind{purgetest.URLs, purgetest.Prefixes, purgetest.Everything}

// perBatch is the most paths the suite's purgers put in one invalidation.
const perBatch = 2

// stubHarness builds each case's purger against a fresh stand-in.
type stubHarness struct{}

func (stubHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{Kinds: kinds, PerCall: map[purgetest.Kind]int{purgetest.URLs: perBatch, purgetest.Prefixes: perBatch}}
}

func (stubHarness) Target(t *testing.T) *purgetest.Target {
	stub, base := startStub(t, cloudfrontstub.Options{})
	return &purgetest.Target{
		Purger:  newPurger(t, base, Config{MaxPathsPerBatch: perBatch}),
		Zone:    testDist,
		Secrets: secrets,
		Calls: func() []purgetest.Call {
			var out []purgetest.Call
			for _, c := range stub.CreateCalls() {
				out = append(out, purgetest.Call{Kind: kindOf(c.Paths), Items: c.Paths, Status: c.Status})
			}
			return out
		},
		Fail: func(f purgetest.Failure) {
			stub.SetFailure(cloudfrontstub.Failure{Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count})
		},
		Hang:    func() { stub.Hang(true) },
		Waiting: stub.Waiting,
		Down:    stub.Close,
		BadZone: "ENOSUCHDIST0",
		BadCredential: func(t *testing.T) purge.Purger {
			return newPurger(t, base, Config{AccessKeyID: wrongKey, SecretAccessKey: wrongSec})
		},
	}
}

// kindOf is the suite's kind of a batch of paths: "/*" is everything, a
// wildcard a prefix.
func kindOf(paths []string) purgetest.Kind {
	switch {
	case len(paths) == 1 && paths[0] == "/*":
		return purgetest.Everything
	case len(paths) > 0 && wildcard(paths[0]):
		return purgetest.Prefixes
	}
	return purgetest.URLs
}
