package cloudfront

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cloudfrontstub"
)

const (
	testDist  = "E2QWRUHEXAMPLE"
	otherDist = "E1OTHEREXAMPLE"
	testHost  = "status.example.com"
	wrongKey  = "AKIAWRONGKEY00000000"
	wrongSec  = "wrong/secret/key/not-a-real-one0000000000"
)

// secrets are what no error may carry.
var secrets = []string{cloudfrontstub.TestSecretAccessKey, wrongSec, "Authorization", "Signature="}

// startStub serves a stand-in knowing testDist and otherDist.
func startStub(t *testing.T, opts cloudfrontstub.Options) (*cloudfrontstub.Server, string) {
	t.Helper()
	if opts.Distributions == nil {
		opts.Distributions = map[string][]string{testDist: {testHost}, otherDist: {"a.example.com", "b.example.com"}}
	}
	s := cloudfrontstub.New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start stub: %v", err)
	}
	t.Cleanup(s.Close)
	return s, base
}

// newPurger returns a Purger at base with the test key, polling fast.
func newPurger(t *testing.T, base string, cfg Config) *Purger {
	t.Helper()
	cfg.BaseURL = base
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = cloudfrontstub.TestAccessKeyID, cloudfrontstub.TestSecretAccessKey
	}
	cfg.PollInterval = max(cfg.PollInterval, time.Millisecond)
	cfg.MaxPollInterval = max(cfg.MaxPollInterval, 20*time.Millisecond)
	if cfg.CollapseAfter == 0 {
		cfg.CollapseAfter = 1000
	}
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("new purger: %v", err)
	}
	return p
}

// urls returns n distinct URLs of testHost under dir.
func urls(dir string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://%s/%s/%03d", testHost, dir, i)
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
