// Package deploy_test checks the files under deploy/: the Prometheus alert
// rules pass `promtool test rules` against their synthetic series, every
// rule has a test that makes it fire and one that keeps it quiet, and the
// Grafana dashboard and the rules name only metrics a running edgepurge
// exports.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

// root is the repository's root: the nearest directory upwards with go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// promtool finds promtool (Debian's prometheus package, which
// scripts/ensure-prometheus.sh installs). Outside the integration layer the
// test is skipped; in it, a missing promtool fails the test.
func promtool(t *testing.T) string {
	t.Helper()
	integration.Need(t, "promtool")
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is missing (%v): install it with scripts/ensure-prometheus.sh (make test and .ci/run do)", err)
	}
	return p
}

// TestAlertRules runs `promtool check rules` and `promtool test rules` on
// deploy/prometheus.
func TestAlertRules(t *testing.T) {
	bin := promtool(t)
	dir := filepath.Join(root(t), "deploy", "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), bytes.TrimSpace(out))
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleTests is the part of a promtool test file the tests read.
type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func alertRules(t *testing.T) ruleFile {
	t.Helper()
	var rf ruleFile
	if err := yaml.Unmarshal(read(t, "deploy/prometheus/alerts.yaml"), &rf); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	return rf
}

// TestEveryAlertIsTested: each alert of alerts.yaml is made to fire by a
// test of alerts_test.yaml, and is shown quiet by another; the rules
// named are the ones the issue asks for.
func TestEveryAlertIsTested(t *testing.T) {
	rf := alertRules(t)
	var rt ruleTests
	if err := yaml.Unmarshal(read(t, "deploy/prometheus/alerts_test.yaml"), &rt); err != nil {
		t.Fatalf("alerts_test.yaml: %v", err)
	}
	if !slices.Equal(rt.RuleFiles, []string{"alerts.yaml"}) {
		t.Errorf("alerts_test.yaml tests %v, want [alerts.yaml]", rt.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range rt.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	var names []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			names = append(names, r.Alert)
			if !fires[r.Alert] {
				t.Errorf("alert %s: no test of alerts_test.yaml makes it fire", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("alert %s: no test of alerts_test.yaml shows it quiet", r.Alert)
			}
		}
	}
	for _, want := range []string{
		"EdgepurgeDown", "EdgepurgeBackendFailing", "EdgepurgeNotReady", "EdgepurgeCanaryStale",
		"EdgepurgeJournalOldEntries", "EdgepurgeJournalEntriesExpiring", "EdgepurgeJournalFilling",
		"EdgepurgeJournalFull", "EdgepurgeDeadLetters", "EdgepurgeBreakerOpen", "EdgepurgeCDNThrottled",
		"EdgepurgeFreshnessLagHigh", "EdgepurgeAuditRecordsDropped",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("alerts.yaml has no alert %s", want)
		}
	}
}

// exported is what a running edgepurge exports: the families of its
// /metrics after some traffic (a purge with occurred_at, a CDN 429 retried,
// canary runs, a journaled purge re-driven), with their types, plus the
// names its registry describes, for the labelled metrics no traffic of
// this test gives a sample (a scrape cannot show a vector without one).
func exported(t *testing.T) (scraped map[string]dto.MetricType, described map[string]bool) {
	t.Helper()
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Canary = config.Canary{URL: "https://canary.status.example.com/edgepurge-canary", Tag: "edgepurge-canary", Interval: time.Second, MaxAge: 5 * time.Second}
		cfg.Server.PurgeTimeout = 500 * time.Millisecond
		cfg.Journal.Poll = 20 * time.Millisecond
		cfg.Journal.ClaimIdle = time.Second
	})
	h.WaitReady()
	occurred := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if code, body := h.SendEvent("msg_deploy_1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1","occurred_at":"`+occurred+`"}`)); code != 200 {
		t.Fatalf("event: %d %s", code, body)
	}
	h.Stub.SetFailure(cfstub.Failure{Status: 429, Codes: []int{971}, Count: 1, RetryAfter: 10 * time.Millisecond})
	// Purged after the retry, or journaled: either way the 429 is counted.
	if code, body := h.SendEvent("msg_deploy_2", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc2"}`)); code != 200 && code != 202 {
		t.Fatalf("event after a 429: %d %s", code, body)
	}
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}})
	if code, body := h.SendEvent("msg_deploy_3", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc3"}`)); code != 202 {
		t.Fatalf("event during a CDN failure: %d %s", code, body)
	}
	h.Stub.ClearFailure()
	// A re-drive and a canary run, whatever their result (the CDN's
	// failures may have opened the breaker for a while).
	deadline := time.Now().Add(2 * harness.DefaultTestWait)
	var families map[string]*dto.MetricFamily
	for {
		families = h.Scrape()
		if families["edgepurge_journal_redrives_total"] != nil && families["edgepurge_canary_runs_total"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no re-drive or canary run recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	scraped = map[string]dto.MetricType{}
	for name, mf := range families {
		scraped[name] = mf.GetType()
	}
	described = map[string]bool{}
	ch := make(chan *prometheus.Desc)
	go func() {
		h.App.Metrics.Registry.Describe(ch)
		close(ch)
	}()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := fq.FindStringSubmatch(d.String()); m != nil {
			described[m[1]] = true
		}
	}
	return scraped, described
}

// Parts of a PromQL expression that are not metric names.
var (
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers   = regexp.MustCompile(`\{[^{}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\[\]]*\]`)
	grafanaVar = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	labelList  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelVals  = regexp.MustCompile(`^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	keywords   = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "Inf", "NaN"}
)

// metricNames returns the metric names a PromQL expression (with Grafana's
// variables) selects.
func metricNames(expr string) []string {
	if m := labelVals.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	s := stringLit.ReplaceAllString(expr, " ")
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grafanaVar.ReplaceAllString(s, " ")
	s = labelList.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range identifier.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // the exponent or unit of a number: 1e3, 5m
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		if slices.Contains(keywords, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// known reports whether name is a metric edgepurge exports: a family of
// the scrape, a histogram's or summary's _bucket, _sum or _count series,
// or a described metric.
func known(name string, scraped map[string]dto.MetricType, described map[string]bool) bool {
	if _, ok := scraped[name]; ok || described[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if _, ok := scraped[base]; !ok && described[base] {
			// A family without a sample yet (a vector no label has
			// touched: Akamai's estimate with no Akamai configured)
			// shows no type; its series are trusted by name.
			return true
		}
		switch scraped[base] {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			return true
		case dto.MetricType_SUMMARY:
			return suffix != "_bucket"
		}
	}
	return false
}

// dashboardQueries returns every query of a Grafana dashboard: the panels'
// targets (rows and nested panels included) and the templating variables'.
func dashboardQueries(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var d struct {
		Title      string            `json:"title"`
		UID        string            `json:"uid"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/edgepurge.json does not parse: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("the dashboard has no title, uid or panels")
	}
	out := map[string]string{}
	type panel struct {
		ID      int                     `json:"id"`
		Title   string                  `json:"title"`
		Type    string                  `json:"type"`
		Targets []struct{ Expr string } `json:"targets"`
		Panels  []json.RawMessage       `json:"panels"`
	}
	var walk func(raws []json.RawMessage)
	walk = func(raws []json.RawMessage) {
		for _, r := range raws {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("a panel does not parse: %v", err)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for i, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q, target %d: empty expr", p.Title, i)
				}
				out["panel "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil || q.Query == "" {
			var s string
			if err := json.Unmarshal(v.Query, &s); err != nil {
				t.Fatalf("variable %s: query neither a string nor an object", v.Name)
			}
			q.Query = s
		}
		out["variable "+v.Name] = q.Query
	}
	return out
}

// TestDeployFilesNameExportedMetrics: every query of the dashboard, and
// every alert rule but EdgepurgeDown's `up` (which Prometheus makes),
// names only metrics a running edgepurge exports.
func TestDeployFilesNameExportedMetrics(t *testing.T) {
	scraped, described := exported(t)
	if len(scraped) < 30 {
		t.Fatalf("the scrape has only %d families", len(scraped))
	}
	var describedOnly []string
	for name := range described {
		if _, ok := scraped[name]; !ok {
			describedOnly = append(describedOnly, name)
		}
	}
	slices.Sort(describedOnly)
	t.Logf("%d families scraped; described without a sample: %v", len(scraped), describedOnly)
	check := func(what, expr string, allow ...string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s names no metric: %s", what, expr)
		}
		for _, n := range names {
			if !slices.Contains(allow, n) && !known(n, scraped, described) {
				t.Errorf("%s names %s, which edgepurge does not export: %s", what, n, expr)
			}
		}
	}
	t.Run("dashboard", func(t *testing.T) {
		qs := dashboardQueries(t, read(t, "deploy/grafana/edgepurge.json"))
		if len(qs) < 20 {
			t.Errorf("the dashboard has only %d queries", len(qs))
		}
		for what, expr := range qs {
			check(what, expr)
		}
	})
	t.Run("alerts", func(t *testing.T) {
		for _, g := range alertRules(t).Groups {
			for _, r := range g.Rules {
				check("alert "+r.Alert, r.Expr, "up")
			}
		}
	})
	// Every edgepurge metric is shown somewhere.
	t.Run("coverage", func(t *testing.T) {
		all := string(read(t, "deploy/grafana/edgepurge.json"))
		for name := range described {
			if strings.HasPrefix(name, "edgepurge_") && !strings.Contains(all, name) {
				t.Errorf("the dashboard does not show %s", name)
			}
		}
	})
}

// TestMetricNames pins the extraction of metric names from PromQL.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.99, sum by (le) (rate(edgepurge_freshness_lag_seconds_bucket{job=~"$job"}[$__rate_interval]))) > 5`: {"edgepurge_freshness_lag_seconds_bucket"},
		`max by (job) (a_metric) / on (job) group_left b_metric{stream="journal"} > 0.5`:                                          {"a_metric", "b_metric"},
		`time() - x_seconds > 120 and on (job, instance) (sum by (job, instance) (y_total) > 0)`:                                  {"x_seconds", "y_total"},
		`label_values(edgepurge_build_info, job)`:                                                                                 {"edgepurge_build_info"},
		`increase(z_total[1h]) > 1e3`: {"z_total"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
	if known("nope_total", map[string]dto.MetricType{}, nil) {
		t.Error("an unknown name is known")
	}
	if !known("h_bucket", map[string]dto.MetricType{"h": dto.MetricType_HISTOGRAM}, nil) || known("g_bucket", map[string]dto.MetricType{"g": dto.MetricType_GAUGE}, nil) {
		t.Error("suffixes are allowed on histograms only")
	}
}

// backendChecks are readiness checks of backend targets as internal/health
// names them (one per target), and other checks, which
// EdgepurgeBackendFailing must leave to other rules.
var (
	backendChecks = []string{"redis", "cloudflare zone 023e105f4ecef8ad9ca31a8372d0c353", "fastly service SU1Z0isxPaozGVKXdv0eY", "varnish node http://127.0.0.1:6081"}
	otherChecks   = []string{"config", "draining", "canary"}
)

// headingAnchors returns the GitHub anchors of a Markdown document's
// headings (lower case, punctuation dropped, spaces as dashes), enough for
// the runbook links of the rules.
func headingAnchors(md string) map[string]bool {
	out := map[string]bool{}
	drop := regexp.MustCompile("[^a-z0-9 _-]")
	for _, l := range strings.Split(md, "\n") {
		text, ok := strings.CutPrefix(strings.TrimLeft(l, "#"), " ")
		if !strings.HasPrefix(l, "#") || !ok {
			continue
		}
		out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(text)), ""), " ", "-")] = true
	}
	return out
}

// TestAlertsSayWhatToDo: every rule has a severity (critical or warning),
// a summary, a description and a runbook_url to its own heading of
// docs/operations.md; the checks the rules name are the ones edgepurge
// has (the token and breaker checks are gone); EdgepurgeBackendFailing is
// critical, waits a minute, and matches every backend check and no other.
func TestAlertsSayWhatToDo(t *testing.T) {
	anchors := headingAnchors(string(read(t, "docs/operations.md")))
	checkMatcher := regexp.MustCompile(`check=~"([^"]*)"`)
	seenBackendRule := false
	for _, g := range alertRules(t).Groups {
		for _, r := range g.Rules {
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("alert %s: severity %q, want critical or warning", r.Alert, sev)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s has no %s", r.Alert, a)
				}
			}
			want := "docs/operations.md#" + strings.ToLower(r.Alert)
			if got := r.Annotations["runbook_url"]; got != want {
				t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, got, want)
			}
			if !anchors[strings.ToLower(r.Alert)] {
				t.Errorf("alert %s: docs/operations.md has no heading %s (its runbook)", r.Alert, r.Alert)
			}
			for _, gone := range []string{"cloudflare_token", "fastly_token", "breaker_cloudflare", "breaker_fastly", `check="breaker`} {
				if strings.Contains(r.Expr, gone) {
					t.Errorf("alert %s names the removed check %s: %s", r.Alert, gone, r.Expr)
				}
			}
			if r.Alert != "EdgepurgeBackendFailing" {
				continue
			}
			seenBackendRule = true
			if r.Labels["severity"] != "critical" || r.For != "1m" {
				t.Errorf("EdgepurgeBackendFailing: severity %q, for %q; want critical, 1m", r.Labels["severity"], r.For)
			}
			m := checkMatcher.FindStringSubmatch(r.Expr)
			if m == nil {
				t.Fatalf("EdgepurgeBackendFailing selects no check=~: %s", r.Expr)
			}
			// Prometheus' regular expressions are RE2, anchored at both ends.
			re := regexp.MustCompile("^(?:" + m[1] + ")$")
			for _, c := range backendChecks {
				if !re.MatchString(c) {
					t.Errorf("EdgepurgeBackendFailing does not watch the check %q", c)
				}
			}
			for _, c := range otherChecks {
				if re.MatchString(c) {
					t.Errorf("EdgepurgeBackendFailing watches the check %q, which is not a backend's", c)
				}
			}
		}
	}
	if !seenBackendRule {
		t.Error("alerts.yaml has no EdgepurgeBackendFailing")
	}
}
