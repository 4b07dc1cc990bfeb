package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/akamaistub"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// The stand-in's Akamai API client.
const (
	akamaiHost   = "akab-e2e-0000000000000000.luna.akamaiapis.net"
	akamaiClient = "akab-client-token-e2e-000000000000"
	akamaiSecret = "ZTJlLWNsaWVudC1zZWNyZXQtZG8tbm90LWxlYWstMDA="
	akamaiAccess = "akab-access-token-e2e-000000000000"
)

// akamaiSetup is edgepurge with Akamai (the stand-in) and Cloudflare (its
// stand-in) in cdn_order akamai, cloudflare, beside Redis, for the page
// of the Statuspage example; order records which CDN each purge call went
// to, in order.
type akamaiSetup struct {
	h     *harness.H
	stub  *akamaistub.Server
	cf    *cfstub.Server
	mu    sync.Mutex
	order []string
}

func (s *akamaiSetup) note(cdn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 || s.order[len(s.order)-1] != cdn {
		s.order = append(s.order, cdn)
	}
}

func startAkamai(t *testing.T, opts akamaistub.Options, edit func(cfg *config.Config)) *akamaiSetup {
	t.Helper()
	s := &akamaiSetup{}
	opts.Host = akamaiHost
	opts.Clients = append(opts.Clients, akamaistub.Client{ClientToken: akamaiClient, ClientSecret: akamaiSecret, AccessToken: akamaiAccess})
	s.stub = akamaistub.New(opts)
	abase := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.note("akamai")
		s.stub.Handler().ServeHTTP(w, r)
	}))
	s.cf = cfstub.New(cfstub.Options{Tokens: []string{harness.TestCFToken}})
	cbase := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s.note("cloudflare")
		}
		s.cf.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { abase.Close(); cbase.Close(); s.stub.Close(); s.cf.Close() })

	prefix := redistest.Prefix(t)
	cfg := harness.BaseConfig(prefix, "redis://"+redistest.SharedAddr+"/0", cbase.URL+"/client/v4/")
	cfg.Akamai = akamai.Config{
		Host: akamaiHost, ClientToken: akamaiClient, ClientSecret: akamaiSecret, AccessToken: akamaiAccess,
		BaseURL: abase.URL, RateLimit: ratelimit.Config{Account: prefix},
	}
	cfg.CDNOrder = []string{config.CDNAkamai, config.CDNCloudflare}
	// Akamai's cache tags allow no ':': the pages' tags are page-{page_id}.
	cfg.Pages[spPage] = config.PageRule{Hosts: []string{"{page_id}.status.example.com"}, Tags: []string{"page-{page_id}"}}
	p0 := cfg.Pages[harness.TestPage]
	p0.Tags = []string{"page-{page_id}"}
	cfg.Pages[harness.TestPage] = p0
	if edit != nil {
		edit(cfg)
	}
	s.h = harness.StartWith(t, cfg, s.cf, prefix)
	if cfg.Probe.Disabled {
		s.h.WaitReady()
	}
	return s
}

// A Statuspage incident notification purges the incident's URLs and the
// page's cache tag at Akamai (deleted, on production), then the same at
// Cloudflare, in cdn_order; the answer has both results, and Akamai's
// completion estimate reaches the metrics.
func TestStatuspageIncidentPurgesAkamaiThenCloudflare(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{EstimatedSeconds: 5}, nil)
	code, raw := s.h.StatuspageIncident()
	if code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	a := harness.DecodeAnswer(t, raw)
	results := map[string]chain.BackendResult{}
	for _, r := range a.Results {
		results[r.Backend] = r
	}
	want := len(spIncidentPaths) + 1 // the URLs and the tag
	if r := results["akamai"]; a.Status != chain.StatusPurged || r.Status != chain.BackendOK || r.Items != want {
		t.Fatalf("answer %s", raw)
	}
	purged := s.stub.Purged(akamai.NetworkProduction)
	for _, p := range spIncidentPaths {
		if _, ok := purged["https://"+spHost+p]; !ok {
			t.Errorf("Akamai did not purge https://%s%s", spHost, p)
		}
	}
	if _, ok := purged["page-"+spPage]; !ok {
		t.Errorf("Akamai did not purge the tag page-%s", spPage)
	}
	if len(purged) != want {
		t.Errorf("Akamai purged %d objects, want %d: %v", len(purged), want, purged)
	}
	for _, c := range s.stub.PurgeCalls() {
		if c.Status != http.StatusCreated || c.Action != akamaistub.ActionDelete || c.Network != akamai.NetworkProduction {
			t.Errorf("Akamai call %+v", c)
		}
	}
	if got := len(s.cf.URLsPurged(harness.TestZone)); got != len(spIncidentPaths) {
		t.Errorf("Cloudflare purged %d URLs, want %d", got, len(spIncidentPaths))
	}
	s.mu.Lock()
	order := slices.Clone(s.order)
	s.mu.Unlock()
	if !slices.Equal(order, []string{"akamai", "cloudflare"}) {
		t.Errorf("CDN calls in the order %q, want akamai then cloudflare", order)
	}
	if m := s.h.Metric("edgepurge_cdn_completion_estimate_seconds_count"); !strings.Contains(m, `backend="akamai"`) {
		t.Errorf("no Akamai completion estimate in the metrics: %q", m)
	}
	if strings.Contains(s.h.Logs.String(), akamaiSecret) || strings.Contains(s.h.Logs.String(), akamaiAccess) {
		t.Error("a credential is in the log")
	}
}

// A page rule's soft purge invalidates at Akamai instead of deleting.
func TestAkamaiSoftPurgeInvalidates(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{}, func(cfg *config.Config) {
		p := cfg.Pages[spPage]
		soft := true
		p.SoftPurge = &soft
		cfg.Pages[spPage] = p
	})
	if code, raw := s.h.StatuspageIncident(); code != http.StatusOK {
		t.Fatalf("hook: %d %s", code, raw)
	}
	calls := s.stub.PurgeCalls()
	if len(calls) == 0 {
		t.Fatal("no Akamai call")
	}
	for _, c := range calls {
		if c.Action != akamaistub.ActionInvalidate {
			t.Errorf("soft purge sent %s", c.Path)
		}
	}
}

// With probes on, Akamai's network is proven by invalidating the probe URL
// and tag; a client that lacks the CCU grant fails its check, which names
// the grant to add.
func TestAkamaiReadinessByProbe(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{}, probing)
	check := "akamai network production"
	waitCheck(t, s.h, check, func(r harness.VerboseReadyz) bool {
		c, _ := r.Check(check)
		return c.OK && !c.LastSuccess.IsZero()
	})
	if _, ok := s.stub.Purged(akamai.NetworkProduction)["edgepurge-probe"]; !ok {
		t.Errorf("ready, but the probe tag was not purged: %v", s.stub.Purged(akamai.NetworkProduction))
	}
	// The backends report (the console's panel) shows the network with
	// Akamai's two object budgets: URLs, and cache tags counted one by one.
	code, rep := backends(t, s.h, harness.TestAPIToken)
	b, ok := backendOf(rep, check)
	if code != http.StatusOK || !ok || b.State != "ok" || len(b.Budget) != 2 {
		t.Fatalf("/v1/backends %d: %+v", code, rep)
	}
	if u, tg := b.Budget[0], b.Budget[1]; u.Bucket != "urls" || u.Limit1m != 10800 || tg.Bucket != "tags" || tg.Limit1m != 450 || tg.Used1m < 1 {
		t.Errorf("budgets %+v: want urls of 10,800 and tags of 450 a minute (90%% of Fast Purge's), tags spent by the probe", b.Budget)
	}

	denied := startAkamai(t, akamaistub.Options{Clients: []akamaistub.Client{
		{ClientToken: "akab-no-grant", ClientSecret: akamaiSecret, AccessToken: akamaiAccess, NoPurge: true}}},
		func(cfg *config.Config) {
			probing(cfg)
			cfg.Akamai.ClientToken = "akab-no-grant"
		})
	r := waitCheck(t, denied.h, check, func(r harness.VerboseReadyz) bool {
		c, _ := r.Check(check)
		return !c.OK && c.Error != "not checked yet"
	})
	if c, _ := r.Check(check); !strings.Contains(c.Error, "403") || !strings.Contains(c.Error, akamai.PermissionFastPurge) {
		t.Errorf("check %+v: want the 403 and the grant to add", c)
	}
}

// Hosts, prefixes and everything cannot be purged at Akamai: refused
// before anything is purged (422), naming the problem.
func TestAkamaiRefusesHostPrefixAndEverything(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{}, nil)
	for body, want := range map[string]string{
		`{"hosts":["p0.status.example.com"]}`:         "akamai cannot purge by hostname or prefix",
		`{"prefixes":["p0.status.example.com/api/"]}`: "akamai cannot purge by hostname or prefix",
		`{"everything":true}`:                         "akamai cannot purge everything",
	} {
		code, raw := s.h.ManualPurge(body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), want) {
			t.Errorf("%s: %d %s", body, code, raw)
		}
	}
	if n := len(s.stub.PurgeCalls()) + len(s.cf.Calls()); n != 0 {
		t.Errorf("%d calls made", n)
	}
}

// A Fast Purge outage (503) past the deadline is journaled (202) and
// re-driven: Akamai, then Cloudflare after it, once Akamai is back.
func TestAkamaiOutageIsJournaledAndRedriven(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{}, journalConfig)
	s.stub.SetFailure(akamaistub.Failure{Status: http.StatusServiceUnavailable, Title: "Service Unavailable"})
	code, raw := s.h.StatuspageIncident()
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusAccepted || a.Status != chain.StatusJournaled || a.JournalID == "" {
		t.Fatalf("answer %d %s", code, raw)
	}
	var akamaiResult chain.BackendResult
	for _, r := range a.Results {
		if r.Backend == "akamai" {
			akamaiResult = r
		}
	}
	if akamaiResult.Status != chain.BackendFailed || !strings.Contains(akamaiResult.Error, "HTTP 503") {
		t.Errorf("akamai result %+v", akamaiResult)
	}
	s.stub.ClearFailure()
	waitFor(t, "the re-drive", func() bool {
		return len(s.stub.Purged(akamai.NetworkProduction)) == len(spIncidentPaths)+1 &&
			len(s.cf.URLsPurged(harness.TestZone)) == len(spIncidentPaths)
	})
	waitFor(t, "the journal to empty", func() bool {
		return s.h.Metric("edgepurge_journal_pending ") == "edgepurge_journal_pending 0"
	})
}

// A 429 from Fast Purge (a call over its URL bucket) is retried after its
// wait, within the deadline, through the shared budget's pause: the event
// is purged all the same.
func TestAkamai429IsRetriedWithinTheDeadline(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{URLRate: 5, URLBurst: 5, RetryAfter: true}, func(cfg *config.Config) {
		cfg.Akamai.RateLimit.Disabled = true // only Akamai limits: it must answer 429
		cfg.Akamai.MaxObjectsPerCall = 5
	})
	code, raw := s.h.StatuspageIncident()
	if a := harness.DecodeAnswer(t, raw); code != http.StatusOK || a.Status != chain.StatusPurged {
		t.Fatalf("answer %d %s", code, raw)
	}
	if s.stub.Throttled() == 0 {
		t.Error("Fast Purge never answered 429: the test proves nothing")
	}
	if got := len(s.stub.Purged(akamai.NetworkProduction)); got != len(spIncidentPaths)+1 {
		t.Errorf("Akamai purged %d objects, want %d", got, len(spIncidentPaths)+1)
	}
}

// edgepurge's shared budget keeps a burst of events within Fast Purge's
// buckets: every event purged, no 429.
func TestAkamaiBudgetKeepsWithinFastPurgeLimits(t *testing.T) {
	s := startAkamai(t, akamaistub.Options{URLRate: 100, URLBurst: 40, TagRate: 2, TagBurst: 4}, func(cfg *config.Config) {
		cfg.Akamai.RateLimit.URLsPerSecond, cfg.Akamai.RateLimit.URLBurst = 80, 30
		cfg.Akamai.RateLimit.CallsPerSecond, cfg.Akamai.RateLimit.CallBurst = 1.5, 3
		cfg.Akamai.MaxObjectsPerCall = 20
	})
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			body := fmt.Sprintf(`{"type":"incident.updated","page_id":"%s","incident_id":"inc%d"}`, spPage, i)
			codes[i], _ = s.h.SendEvent(harness.EventID(t, i+1), []byte(body))
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("event %d: %d", i, c)
		}
	}
	if n := s.stub.Throttled(); n != 0 {
		t.Errorf("Fast Purge answered 429 %d times", n)
	}
	if _, ok := s.stub.Purged(akamai.NetworkProduction)["https://"+spHost+"/incidents/inc7"]; !ok {
		t.Error("the last incident's page was not purged")
	}
}
