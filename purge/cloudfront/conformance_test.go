package cloudfront

import (
	"context"
	"slices"
	"testing"
	"time"

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

// TestConformanceLiveMode runs TestLive's harness against the stand-in,
// so that a live run can only fail for what the real API answers.
func TestConformanceLiveMode(t *testing.T) {
	_, base := startStub(t, cloudfrontstub.Options{})
	live := purgetest.NewLive(t, "https://"+testHost+"/edgepurge-probe", "edgepurge-probe")
	purgetest.Run(t, liveHarness{base: base, live: live, dist: testDist,
		id: cloudfrontstub.TestAccessKeyID, secret: cloudfrontstub.TestSecretAccessKey})
}

// liveHarness purges the real API (TestLive: credentials from the SDK's
// default chain), or base with the stand-in's key when set.
type liveHarness struct {
	base, dist string
	live       purgetest.Live
	id, secret string
}

func (h liveHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{
		Kinds:   kinds,
		PerCall: map[purgetest.Kind]int{purgetest.URLs: perBatch, purgetest.Prefixes: perBatch},
		Lacks:   h.live.Lacks(nil),
	}
}

func (h liveHarness) Target(t *testing.T) *purgetest.Target {
	tg := &purgetest.Target{
		Purger:  h.newPurger(t, Config{AccessKeyID: h.id, SecretAccessKey: purge.Secret(h.secret), MaxPathsPerBatch: perBatch}),
		Zone:    h.dist,
		Secrets: append(slices.Clone(secrets), h.secret),
		BadZone: "ENOSUCHDIST0",
		BadCredential: func(t *testing.T) purge.Purger {
			return h.newPurger(t, Config{AccessKeyID: wrongKey, SecretAccessKey: wrongSec})
		},
	}
	h.live.Items(tg)
	return tg
}

func (h liveHarness) newPurger(t *testing.T, cfg Config) *Purger {
	t.Helper()
	cfg.BaseURL = h.base
	cfg.PollInterval, cfg.MaxPollInterval = 10*time.Millisecond, 10*time.Second
	cfg.CollapseAfter = 1000
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
