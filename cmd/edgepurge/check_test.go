package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// opsEnv is a complete environment-only deployment against the stand-in
// at cfBase and the Redis at redisURL.
func opsEnv(cfBase, redisURL string) []string {
	return []string{
		"EDGEPURGE_CONFIG=", "EDGEPURGE_DRY_RUN=",
		"CLOUDFLARE_API_TOKEN=" + proc.CFToken,
		"CLOUDFLARE_ZONE_ID=" + proc.Zone,
		"CLOUDFLARE_BASE_URL=" + cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_API_TOKEN=" + proc.APIToken,
		"EDGEPURGE_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"REDIS_URL=" + redisURL,
	}
}

func startStub(t *testing.T, opts cfstub.Options) (*cfstub.Server, string) {
	t.Helper()
	stub := cfstub.New(opts)
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	return stub, base
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// lineOf returns the output line of check name.
func lineOf(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.Join(f[1:], " ") != "" && strings.HasPrefix(strings.Join(f[1:], " "), name+" ") {
			return l
		}
	}
	return ""
}

const sharedRedisURL = "redis://" + redistest.SharedAddr + "/0"

func TestCheckGoodSetupPasses(t *testing.T) {
	_, base := startStub(t, cfstub.Options{Tokens: []string{proc.CFToken}, Zones: []string{proc.Zone}})
	env := opsEnv(base, sharedRedisURL)

	out, code := proc.Run(t, env, "check")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for name, detail := range map[string]string{
		"config": "loaded and valid", "templates": "0 pages compiled, and the default rule",
		"hosts": "1 rule renders to valid hostnames (17 URLs for a page.updated)", "zones": proc.Zone,
		"redis": redistest.SharedAddr + ": PING and UNLINK edgepurge:probe answered in", "cloudflare token": "valid and active",
		"cloudflare zone " + proc.Zone:      "purged https://edgepurge-probe.status.example.com/.well-known/edgepurge-probe and tag edgepurge-probe in",
		"read cloudflare zone " + proc.Zone: "readable with the token",
	} {
		if l := lineOf(out, name); !strings.HasPrefix(l, "✓") || !strings.Contains(l, detail) {
			t.Errorf("check %s: %q, want ✓ and %q", name, l, detail)
		}
	}
	if !strings.HasSuffix(out, "all checks passed\n") {
		t.Errorf("no verdict:\n%s", out)
	}
	if strings.Contains(out, proc.CFToken) || strings.Contains(out, proc.APIToken) || strings.Contains(out, "MfKQ9r8G") {
		t.Errorf("a secret was printed:\n%s", out)
	}

	out, code = proc.Run(t, env, "check", "--json")
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	want := []string{"config", "templates", "hosts", "zones", "secrets", "redis", "cloudflare zone " + proc.Zone, "cloudflare token", "read cloudflare zone " + proc.Zone}
	if !slices.Equal(names, want) {
		t.Errorf("checks = %q, want %q", names, want)
	}
}

func TestCheckNamesWhatIsBroken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stub    cfstub.Options
		redis   func(t *testing.T) string
		config  string
		check   string // the failing check
		reasons []string
		passing []string // checks that must still pass
	}{{
		name:    "redis down",
		stub:    cfstub.Options{Tokens: []string{proc.CFToken}},
		redis:   func(t *testing.T) string { s := redistest.StartServer(t); s.Stop(); return s.URL() },
		check:   "redis",
		reasons: []string{"connection refused"},
		passing: []string{"cloudflare token", "cloudflare zone " + proc.Zone, "templates"},
	}, {
		name:    "token rejected",
		stub:    cfstub.Options{Tokens: []string{"another-token"}},
		check:   "cloudflare zone " + proc.Zone,
		reasons: []string{"in zone " + proc.Zone + ": HTTP 403"},
		passing: []string{"redis"},
	}, {
		name:    "zone missing",
		stub:    cfstub.Options{Tokens: []string{proc.CFToken}, Zones: []string{"some-other-zone"}},
		check:   "cloudflare zone " + proc.Zone,
		reasons: []string{"in zone " + proc.Zone + ": HTTP 400: code 7003, 7000"},
		passing: []string{"cloudflare token", "redis"},
	}, {
		name:    "bad template",
		stub:    cfstub.Options{Tokens: []string{proc.CFToken}},
		config:  "pages:\n  p1:\n    hosts: [\"{page}.status.example.com\"]\n",
		check:   "templates",
		reasons: []string{`pages.p1.hosts[0]: template "{page}.status.example.com": unknown variable {page}`},
		passing: []string{"redis", "cloudflare token"},
	}, {
		name:    "invalid hostname",
		stub:    cfstub.Options{Tokens: []string{proc.CFToken}},
		config:  "pages:\n  p1:\n    hosts: [\"status_{page_id}.example.com\"]\n",
		check:   "hosts",
		reasons: []string{`page p1:`, `invalid hostname "status_p1.example.com"`},
		passing: []string{"templates"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, base := startStub(t, tc.stub)
			redisURL := sharedRedisURL
			if tc.redis != nil {
				redisURL = tc.redis(t)
			}
			args := []string{"check", "--timeout", "3s"}
			if tc.config != "" {
				args = append(args, "--config", writeConfig(t, tc.config))
			}
			out, code := proc.Run(t, opsEnv(base, redisURL), args...)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			line := lineOf(out, tc.check)
			if !strings.HasPrefix(line, "✗") {
				t.Errorf("check %q did not fail:\n%s", tc.check, out)
			}
			for _, r := range tc.reasons {
				if !strings.Contains(line, r) {
					t.Errorf("line %q lacks the reason %q", line, r)
				}
			}
			for _, p := range tc.passing {
				if l := lineOf(out, p); !strings.HasPrefix(l, "✓") {
					t.Errorf("check %q should pass: %q\n%s", p, l, out)
				}
			}
			if !strings.Contains(out, "CHECK FAILED") || strings.Contains(out, proc.CFToken) {
				t.Errorf("verdict or leak:\n%s", out)
			}
		})
	}
}

func TestCheckUnloadableConfigFails(t *testing.T) {
	_, base := startStub(t, cfstub.Options{Tokens: []string{proc.CFToken}})
	out, code := proc.Run(t, opsEnv(base, sharedRedisURL), "check", "--config", writeConfig(t, "listen: [\n"))
	if code != 1 || !strings.HasPrefix(lineOf(out, "config"), "✗") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestPurgeDirectWithNoServer(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{Tokens: []string{proc.CFToken}})
	prefix := redistest.Prefix(t)
	cfg := writeConfig(t, "audit:\n  stream: \""+prefix+"audit\"\ncloudflare:\n  rate_limit:\n    account: \""+prefix+"\"\n")
	env := opsEnv(base, sharedRedisURL)

	out, code := proc.Run(t, env, "purge", "--direct", "--config", cfg, "--page", "p0", "--incident", "inc1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{": purged in", "cloudflare  ok", "plan: 11 urls", "url     https://p0.status.example.com/incidents/inc1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	got := stub.URLsPurged(proc.Zone)
	if len(got) != 11 || !slices.Contains(got, "https://p0.status.example.com/incidents/inc1") {
		t.Errorf("stand-in saw %q", got)
	}
	rdb := redistest.Client(t)
	// The break-glass purge is in the audit trail.
	msgs, err := rdb.XRange(context.Background(), prefix+"audit", "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("audit stream: %v %v", msgs, err)
	}
	var rec audit.Record
	if err := json.Unmarshal([]byte(msgs[0].Values["r"].(string)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Source != "direct" || rec.Page != "p0" || rec.Status != "purged" || rec.Plan.URLs != 11 || !strings.HasPrefix(rec.ID, "direct_") {
		t.Errorf("audit record %+v", rec)
	}

	stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "boom"})
	out, code = proc.Run(t, env, "purge", "--direct", "--config", cfg, "--url", "https://p0.status.example.com/x", "--json")
	var a struct {
		Status string `json:"status"`
	}
	if code != 1 || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &a) != nil || a.Status != "partial" ||
		!strings.Contains(out, "HTTP 500: code 10000: boom") {
		t.Errorf("CDN failure: exit %d:\n%s", code, out)
	}
}

func TestPurgeDirectWithRedisDownStillPurges(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{Tokens: []string{proc.CFToken}})
	srv := redistest.StartServer(t)
	srv.Stop()
	out, code := proc.Run(t, opsEnv(base, srv.URL()), "purge", "--direct", "--url", "https://p0.status.example.com/down")
	if code != 0 || !slices.Equal(stub.URLsPurged(proc.Zone), []string{"https://p0.status.example.com/down"}) {
		t.Errorf("exit %d, purged %q:\n%s", code, stub.URLsPurged(proc.Zone), out)
	}
}

// TestPurgeDirectSharesTheRateBudget runs two break-glass purges as two
// processes: the second finds the account's URL budget spent by the first
// in Redis (burst 13 at 90 % headroom: 11 URLs), waits for it until its
// deadline, and says so.
func TestPurgeDirectSharesTheRateBudget(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{Tokens: []string{proc.CFToken}})
	prefix := redistest.Prefix(t)
	rdb := redistest.Client(t)
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), "*edgepurge:ratelimit:"+prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	cfg := writeConfig(t, "server:\n  purge_timeout: 1s\naudit:\n  stream: \""+prefix+"audit\"\n"+
		"cloudflare:\n  rate_limit:\n    account: \""+prefix+"\"\n    urls_per_second: 0.1\n    url_burst: 13\n")
	env := opsEnv(base, sharedRedisURL)
	if out, code := proc.Run(t, env, "purge", "--direct", "--config", cfg, "--page", "p0", "--incident", "inc1"); code != 0 {
		t.Fatalf("first: exit %d:\n%s", code, out)
	}
	out, code := proc.Run(t, env, "purge", "--direct", "--config", cfg, "--url", "https://p0.status.example.com/second")
	if code != 1 || !strings.Contains(out, "cloudflare  failed") || slices.Contains(stub.URLsPurged(proc.Zone), "https://p0.status.example.com/second") {
		t.Errorf("second purge was not held by the shared budget: exit %d:\n%s", code, out)
	}
}
