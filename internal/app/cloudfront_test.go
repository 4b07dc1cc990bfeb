package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/preflight"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
	"github.com/edgepurge/edgepurge/test/cloudfrontstub"
)

const cfDist = "E2QWRUHEXAMPLE"

// cloudfrontConfig is a CloudFront-only config at the stand-in base with
// the key pair id/secret.
func cloudfrontConfig(t *testing.T, base, id, secret string) *config.Config {
	t.Helper()
	cfg := &config.Config{
		Redis: cache.Config{URL: "redis://127.0.0.1:6379/0"},
		CloudFront: cloudfront.Config{
			DistributionID: cfDist, BaseURL: base, AccessKeyID: id, SecretAccessKey: purge.Secret(secret),
		},
		Defaults: &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}},
	}
	if err := config.Finish(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// checkReport runs edgepurge check's CloudFront part: the probes serve
// runs, through preflight, without Redis's own checks mattering.
func checkReport(t *testing.T, cfg *config.Config) []preflight.Check {
	t.Helper()
	a, err := New(cfg, slog.New(slog.DiscardHandler), Build{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out []preflight.Check
	for _, r := range a.ProbeOnce(context.Background()) {
		c := preflight.Check{Name: r.Check, OK: r.Err == nil, Detail: r.What}
		if r.Err != nil {
			c.Detail = r.Err.Error()
		}
		out = append(out, c)
	}
	return out
}

// Wrong credentials fail check's CloudFront probe (GetDistribution),
// naming the fix; a key without cloudfront:GetDistribution names that
// permission; a key that can read but not invalidate fails too, naming
// cloudfront:CreateInvalidation; the right key passes, having invalidated
// the probe path once.
func TestCloudFrontCheck(t *testing.T) {
	stub := cloudfrontstub.New(cloudfrontstub.Options{Distributions: map[string][]string{cfDist: {"status.example.com"}}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	for _, c := range []struct {
		name, id, secret string
		want             []string
	}{
		{"wrong secret", cloudfrontstub.TestAccessKeyID, "not/the/secret/key/0000000000000000000000", []string{"SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"}},
		{"unknown key", "AKIANOTAKNOWNKEY0000", "not/the/secret/key/0000000000000000000000", []string{"InvalidClientTokenId", "AWS_ACCESS_KEY_ID"}},
		{"right key", cloudfrontstub.TestAccessKeyID, cloudfrontstub.TestSecretAccessKey, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			checks := checkReport(t, cloudfrontConfig(t, base, c.id, c.secret))
			if len(checks) != 1 || checks[0].Name != "cloudfront distribution "+cfDist {
				t.Fatalf("checks %+v, want the distribution's", checks)
			}
			ch := checks[0]
			if ok := c.want == nil; ch.OK != ok {
				t.Fatalf("check %+v: want ok %t", ch, ok)
			}
			for _, w := range c.want {
				if !strings.Contains(ch.Detail, w) {
					t.Errorf("detail %q does not name %q", ch.Detail, w)
				}
			}
			if strings.Contains(ch.Detail, c.secret) {
				t.Errorf("detail %q carries the secret", ch.Detail)
			}
		})
	}
	denied := cloudfrontstub.New(cloudfrontstub.Options{Distributions: map[string][]string{cfDist: nil}, Denied: []string{cloudfrontstub.ActionGetDistribution}})
	base, err = denied.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer denied.Close()
	checks := checkReport(t, cloudfrontConfig(t, base, cloudfrontstub.TestAccessKeyID, cloudfrontstub.TestSecretAccessKey))
	if len(checks) != 1 || checks[0].OK || !strings.Contains(checks[0].Detail, "cloudfront:GetDistribution") || !strings.Contains(checks[0].Detail, "cloudfront:CreateInvalidation") {
		t.Errorf("a key without GetDistribution: %+v", checks)
	}
	if n := len(stub.Invalidations(cfDist)); n != 1 {
		t.Errorf("the passing check made %d invalidations; want 1 (the probe path, proving cloudfront:CreateInvalidation)", n)
	} else if p := stub.Invalidations(cfDist)[0].Paths; len(p) != 1 || p[0] != config.DefaultProbePath {
		t.Errorf("the check invalidated %v; want [%s]", p, config.DefaultProbePath)
	}
	readOnly := cloudfrontstub.New(cloudfrontstub.Options{Distributions: map[string][]string{cfDist: nil}, Denied: []string{cloudfrontstub.ActionCreateInvalidation}})
	base, err = readOnly.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer readOnly.Close()
	checks = checkReport(t, cloudfrontConfig(t, base, cloudfrontstub.TestAccessKeyID, cloudfrontstub.TestSecretAccessKey))
	if len(checks) != 1 || checks[0].OK || !strings.Contains(checks[0].Detail, "cloudfront:CreateInvalidation") {
		t.Errorf("a key that can read but not invalidate: %+v; want a failed check naming cloudfront:CreateInvalidation", checks)
	}
}

// A passing read does not turn a distribution green after a purge failed
// there (a key that can read but not invalidate): only a passing purge
// does. A failure of the read itself is cleared by the next passing read.
func TestCloudFrontReadDoesNotClearAFailedPurge(t *testing.T) {
	stub := cloudfrontstub.New(cloudfrontstub.Options{Distributions: map[string][]string{cfDist: nil}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	a, err := New(cloudfrontConfig(t, base, cloudfrontstub.TestAccessKeyID, cloudfrontstub.TestSecretAccessKey), slog.New(slog.DiscardHandler), Build{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	probes := a.Probes()
	if len(probes) != 1 {
		t.Fatalf("%d probes, want the distribution's", len(probes))
	}
	probe := probes[0]
	ctx := context.Background()
	if err := probe.Run(ctx); err != nil || a.purgeFailing(cfDist) {
		t.Fatalf("first read: %v, failing %t; want a passing check", err, a.purgeFailing(cfDist))
	}
	a.recordCall(config.CDNCloudFront, cfDist, 1, 0, errors.New("invalidate: HTTP 403: AccessDenied"))
	if err := probe.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.purgeFailing(cfDist) {
		t.Fatal("a passing read cleared the failed purge")
	}
	a.recordCall(config.CDNCloudFront, cfDist, 1, 0, nil)
	if a.purgeFailing(cfDist) {
		t.Fatal("a passing purge did not clear it")
	}
	stub.Hang(true)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = probe.Run(short)
	cancel()
	stub.Hang(false)
	if err == nil || !a.purgeFailing(cfDist) {
		t.Fatalf("a read without an answer: %v, failing %t; want a failing check", err, a.purgeFailing(cfDist))
	}
	if err := probe.Run(ctx); err != nil || a.purgeFailing(cfDist) {
		t.Fatalf("the read passing again: %v, failing %t; want it cleared", err, a.purgeFailing(cfDist))
	}
}
