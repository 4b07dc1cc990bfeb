package fastly

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/purgetest"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

// TestConformance runs the contract every purger meets against the
// stand-in.
func TestConformance(t *testing.T) { purgetest.Run(t, stubHarness{}) }

// TestConformanceLiveMode runs TestLive's harness against the stand-in, so
// that a live run can only fail for what the real API answers.
func TestConformanceLiveMode(t *testing.T) {
	_, base := startStub(t, fastlystub.Options{})
	live := purgetest.NewLive(t, "https://"+testHost+"/edgepurge-probe", "edgepurge-probe")
	purgetest.Run(t, liveHarness{base: base, live: live, token: testToken, service: testService})
}

// kinds are the kinds Fastly purges; it has no purge by host or prefix.
var kinds = []purgetest.Kind{purgetest.URLs, purgetest.Tags, purgetest.Everything}

// perCall are the limits the suite's purgers are built with: a URL is a
// call of its own.
var perCall = map[purgetest.Kind]int{purgetest.URLs: 1, purgetest.Tags: 3}

// stubHarness builds each case's purger against a fresh fastlystub.
type stubHarness struct{}

func (stubHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{Kinds: kinds, PerCall: perCall}
}

func (stubHarness) Target(t *testing.T) *purgetest.Target {
	stub, base := startStub(t, fastlystub.Options{})
	return &purgetest.Target{
		Purger:  newPurger(t, base, Config{MaxKeysPerCall: perCall[purgetest.Tags]}),
		Zone:    testService,
		Secrets: []string{testToken, wrongToken, "Fastly-Key", "fastly-key"},
		Calls: func() []purgetest.Call {
			var out []purgetest.Call
			for _, c := range stub.PurgeCalls() {
				out = append(out, purgetest.Call{Kind: stubKinds[c.Kind], Items: c.Items, Status: c.Status})
			}
			return out
		},
		Fail: func(f purgetest.Failure) {
			stub.SetFailure(fastlystub.Failure{Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count})
		},
		Hang:    func() { stub.Hang(true) },
		Waiting: stub.Waiting,
		Down:    stub.Close,
		BadZone: "nope",
		BadCredential: func(t *testing.T) purge.Purger {
			return newPurger(t, base, Config{APIToken: wrongToken})
		},
	}
}

// stubKinds maps the stand-in's purge kinds to the suite's.
var stubKinds = map[string]purgetest.Kind{
	fastlystub.KindURL: purgetest.URLs, fastlystub.KindKeys: purgetest.Tags, fastlystub.KindAll: purgetest.Everything,
}

// liveHarness purges the real API (TestLive), or base when set.
type liveHarness struct {
	base           string
	live           purgetest.Live
	token, service string
}

func (h liveHarness) Capabilities() purgetest.Capabilities {
	return purgetest.Capabilities{
		Kinds:   kinds,
		PerCall: map[purgetest.Kind]int{purgetest.URLs: 1, purgetest.Tags: 2},
		Lacks:   h.live.Lacks(nil),
	}
}

func (h liveHarness) Target(t *testing.T) *purgetest.Target {
	const wrong = "purgetest-not-a-token-00000000"
	tg := &purgetest.Target{
		Purger:  h.newPurger(t, Config{APIToken: purge.Secret(h.token), MaxKeysPerCall: 2}),
		Zone:    h.service,
		Secrets: []string{h.token, wrong, "Fastly-Key", "fastly-key"},
		BadZone: "purgetestNoSuchService0",
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
