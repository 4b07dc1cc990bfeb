package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/cloudfrontstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

const cfDistribution = "E2QWRUHEXAMPLE"

// startCloudFront runs edgepurge with Redis, Cloudflare and CloudFront
// (both stand-ins) in cdn_order, for the page of
// examples/statuspage-incident.json on two hosts one distribution serves.
// Pages have no tags: CloudFront has none.
func startCloudFront(t *testing.T, opts cloudfrontstub.Options, edit func(cfg *config.Config)) (*harness.H, *cloudfrontstub.Server) {
	t.Helper()
	opts.Distributions = map[string][]string{cfDistribution: {"*.status.example.com", "*.custom.test"}}
	stub := cloudfrontstub.New(opts)
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com", "{page_id}.custom.test"}}
		p := cfg.Pages[harness.TestPage]
		p.Tags = nil
		cfg.Pages[harness.TestPage] = p
		cfg.CloudFront = cloudfront.Config{
			AccessKeyID: cloudfrontstub.TestAccessKeyID, SecretAccessKey: cloudfrontstub.TestSecretAccessKey,
			BaseURL:       base,
			Distributions: map[string]string{"*.status.example.com": cfDistribution, "*.custom.test": cfDistribution},
			PollInterval:  10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond,
			RateLimit:  ratelimit.Config{Account: cfg.Cloudflare.RateLimit.Account},
			RefsPrefix: cfg.Cloudflare.RateLimit.Account + "cloudfront:",
		}
		cfg.CDNOrder = []string{config.CDNCloudflare, config.CDNCloudFront}
		if edit != nil {
			edit(cfg)
		}
	})
	h.WaitReady()
	return h, stub
}

// A Statuspage incident notification purges the page's 22 URLs at
// Cloudflare and, on CloudFront, their 11 paths once (a path is
// invalidated on every host of the distribution), answering only once
// the invalidation is Completed.
func TestCloudFrontStatuspageIncident(t *testing.T) {
	h, stub := startCloudFront(t, cloudfrontstub.Options{CompleteAfter: 100 * time.Millisecond}, nil)
	code, raw := h.StatuspageIncident()
	answered := time.Now()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	results := map[string]chain.BackendResult{}
	for _, r := range a.Results {
		results[r.Backend] = r
	}
	if a.Status != chain.StatusPurged || results["cloudfront"].Status != chain.BackendOK || results["cloudfront"].Items != 22 || results["cloudfront"].Calls != 1 {
		t.Fatalf("answer %s", raw)
	}
	if n := len(h.Stub.URLsPurged(harness.TestZone)); n != 22 {
		t.Errorf("Cloudflare purged %d URLs, want 22", n)
	}
	invs := stub.Invalidations(cfDistribution)
	want := slices.Clone(spIncidentPaths)
	slices.Sort(want)
	if len(invs) != 1 || !slices.Equal(invs[0].Paths, want) {
		t.Fatalf("invalidations %+v, want one of %q", invs, want)
	}
	// The stand-in completes it 100 ms after creating it: the answer
	// cannot have come sooner, unless it did not wait.
	if answered.Sub(invs[0].Created) < 100*time.Millisecond {
		t.Errorf("the answer came %v after the invalidation was made, before it could be Completed", answered.Sub(invs[0].Created))
	}
	if n := h.Counter("edgepurge_cdn_requests_total", map[string]string{"backend": "cloudfront", "zone": cfDistribution, "status": "201"}); n != 1 {
		t.Errorf("CreateInvalidation answers counted: %v", n)
	}
	if _, body := h.Get("/readyz?verbose"); !strings.Contains(body, "cloudfront distribution "+cfDistribution) || strings.Contains(body, cloudfrontstub.TestSecretAccessKey) {
		t.Errorf("readyz: want the distribution's check, never the key: %s", body)
	}
	// Tags cannot be purged on CloudFront: refused (422), nothing purged.
	if code, raw := h.ManualPurge(`{"tags":["page:p0"]}`); code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "cloudfront has no cache tags") {
		t.Errorf("a tag purge: %d %s", code, raw)
	}
}

// An invalidation still InProgress at the purge's deadline: the event is
// journaled (202), and the journal's re-drive waits for that same
// invalidation, creating no other.
func TestCloudFrontJournalWaitsForTheSameInvalidation(t *testing.T) {
	h, stub := startCloudFront(t, cloudfrontstub.Options{}, func(cfg *config.Config) {
		cfg.Server.PurgeTimeout = time.Second
		cfg.Journal.Poll = 50 * time.Millisecond
		cfg.Journal.ClaimIdle = time.Second
	})
	stub.HoldInProgress(true)
	code, raw := h.StatuspageIncident()
	if code != http.StatusAccepted || harness.DecodeAnswer(t, raw).Status != chain.StatusJournaled {
		t.Fatalf("an invalidation InProgress at the deadline: %d %s", code, raw)
	}
	stub.HoldInProgress(false)
	deadline := time.Now().Add(harness.DefaultTestWait)
	for time.Now().Before(deadline) {
		if n := h.Counter("edgepurge_journal_redrives_total", map[string]string{"result": "ok"}); n >= 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One invalidation. (On a slow machine the first answer may come
	// after the deadline: the re-drive then sends the same batch again,
	// with the same CallerReference, and CloudFront answers with the one
	// it made.)
	invs := stub.Invalidations(cfDistribution)
	if len(invs) != 1 {
		t.Fatalf("%d invalidations, want 1: %+v", len(invs), invs)
	}
	for _, c := range stub.CreateCalls() {
		if c.CallerReference != invs[0].CallerReference {
			t.Errorf("a CreateInvalidation with another CallerReference: %+v", c)
		}
	}
	read := false
	for _, c := range stub.Calls() {
		read = read || c.Op == cloudfrontstub.OpGetInvalidation && c.Invalidation == invs[0].ID
	}
	if !read {
		t.Error("the re-drive never polled the invalidation")
	}
	if n := h.Counter("edgepurge_journal_redrives_total", map[string]string{"result": "ok"}); n < 1 {
		t.Errorf("the journal never finished the re-drive: %s", h.Metric("edgepurge_journal"))
	}
}
