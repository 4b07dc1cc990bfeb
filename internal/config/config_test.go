package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvOnlyMode(t *testing.T) {
	cfg, err := Load("", env(map[string]string{
		"CLOUDFLARE_API_TOKEN":      "cf-secret-token",
		"CLOUDFLARE_ZONE_ID":        "zone1",
		"EDGEPURGE_HOSTS":           "{page_id}.status.example.com, status.other.test",
		"EDGEPURGE_WEBHOOK_SECRETS": "whsec_a,whsec_b",
		"EDGEPURGE_LISTEN":          ":9999",
		"REDIS_URL":                 "redis://127.0.0.1:6379/3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9999" || cfg.Redis.URL != "redis://127.0.0.1:6379/3" || cfg.Cloudflare.ZoneID != "zone1" {
		t.Errorf("env not applied: %+v", cfg)
	}
	if got := cfg.Defaults.Hosts; len(got) != 2 || got[1] != "status.other.test" {
		t.Errorf("hosts = %q", got)
	}
	if len(cfg.Auth.WebhookSecrets) != 2 {
		t.Errorf("secrets = %d", len(cfg.Auth.WebhookSecrets))
	}
	if cfg.Server.MaxBodyBytes != 1<<20 || cfg.Server.PurgeTimeout != 10*time.Second || cfg.Cloudflare.MaxURLsPerCall != 100 {
		t.Errorf("defaults not set: %+v", cfg.Server)
	}
	if cfg.Cloudflare.MaxInflightCalls != 8 {
		t.Errorf("cloudflare.max_inflight_calls = %d, want 8 (see cloudflare.DefaultMaxInflightCalls)", cfg.Cloudflare.MaxInflightCalls)
	}
}

func TestNoCDNNeedsExplicitDryRun(t *testing.T) {
	_, err := Load("", env(nil))
	if err == nil || !strings.Contains(err.Error(), "EDGEPURGE_DRY_RUN=true") {
		t.Fatalf("err = %v, want it to say how to run without a CDN", err)
	}
	cfg, err := Load("", env(map[string]string{"EDGEPURGE_DRY_RUN": "true"}))
	if err != nil || !cfg.DryRun {
		t.Fatalf("dry run: %v", err)
	}
	if _, err := Load("", env(map[string]string{"EDGEPURGE_DRY_RUN": "yes please"})); err == nil {
		t.Error("a malformed EDGEPURGE_DRY_RUN was accepted")
	}
}

func TestFileStrictAndExpanded(t *testing.T) {
	p := writeFile(t, `
listen: ":8081"
cloudflare:
  api_token: ${CF_TOKEN}
  zone_id: ${ZONE:-zdefault}
server:
  purge_timeout: 3s
pages:
  p0:
    hosts: ["p0.status.example.com"]
    keys: ["statuspage:{page_id}:summary"]
`)
	cfg, err := Load(p, env(map[string]string{"CF_TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cloudflare.APIToken.Value() != "tok" || cfg.Cloudflare.ZoneID != "zdefault" || cfg.Server.PurgeTimeout != 3*time.Second {
		t.Errorf("got %+v", cfg.Cloudflare)
	}
	if cfg.Pages["p0"].Keys[0] != "statuspage:{page_id}:summary" {
		t.Errorf("templates must survive env expansion: %q", cfg.Pages["p0"].Keys)
	}
}

func TestFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "dry_run: true\nlisten_addr: x\n", "listen_addr"},
		{"unknown nested key", "dry_run: true\nserver:\n  read_timout: 1s\n", "read_timout"},
		{"duplicate key", "dry_run: true\nlisten: a\nlisten: b\n", "duplicate"},
		{"unset env", "dry_run: true\nauth:\n  api_token: ${NOT_SET_ANYWHERE}\n", "NOT_SET_ANYWHERE"},
		{"bad duration", "dry_run: true\nserver:\n  read_timeout: soon\n", "server.read_timeout: line 3: want a duration such as 10s, got soon"},
		{"bad mode", "dry_run: true\nredis:\n  mode: galaxy\n", "redis.mode"},
		{"page without hosts", "dry_run: true\npages:\n  p0: {}\n", `page "p0": no hosts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	cfg, err := Load("", env(map[string]string{
		"CLOUDFLARE_API_TOKEN": "cf-very-secret", "CLOUDFLARE_ZONE_ID": "z",
		"EDGEPURGE_API_TOKEN": "api-very-secret", "EDGEPURGE_WEBHOOK_SECRETS": "whsec_very-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(cfg)
	for _, out := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", *cfg), string(j)} {
		if strings.Contains(out, "very-secret") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

func TestExpansionIgnoresCommentsAndCannotInject(t *testing.T) {
	p := writeFile(t, `
# a comment may mention ${NOT_SET_ANYWHERE} freely
dry_run: true
auth:
  api_token: ${TRICKY}
pages:
  p0:
    hosts: ["${HOST:-p0.status.example.com}"]
`)
	tricky := "abc: def\nlisten: :1 # x \"'"
	cfg, err := Load(p, env(map[string]string{"TRICKY": tricky}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.APIToken.Value() != tricky || cfg.Listen != DefaultListen {
		t.Errorf("token %q, listen %q: the value was re-parsed as YAML", cfg.Auth.APIToken.Value(), cfg.Listen)
	}
	if cfg.Pages["p0"].Hosts[0] != "p0.status.example.com" {
		t.Errorf("map values not expanded: %q", cfg.Pages["p0"].Hosts)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	_, err := Load("../../examples/edgepurge.yaml", env(map[string]string{
		"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z", "EDGEPURGE_WEBHOOK_SECRETS": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"EDGEPURGE_STATUSPAGE_TOKEN": "s", "EDGEPURGE_API_TOKEN": "a",
	}))
	if err != nil {
		t.Fatalf("examples/edgepurge.yaml: %v", err)
	}
}

// checkLoadErrors loads each body: the error must mention the wanted text,
// or there must be none when it is "".
func checkLoadErrors(t *testing.T, getenv Getenv, cases map[string]string) {
	t.Helper()
	for body, want := range cases {
		_, err := Load(writeFile(t, body), getenv)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to mention %q", body, err, want)
		}
	}
}

// cloudflare.coalesce and EDGEPURGE_COALESCE were removed: a file that
// still sets the key fails to load, saying so.
func TestRemovedCoalesceIsAnError(t *testing.T) {
	getenv := env(map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"})
	for _, body := range []string{"cloudflare:\n  coalesce: false\n", "cloudflare:\n  coalesce: true\n  zone_id: z\n"} {
		_, err := Load(writeFile(t, body), getenv)
		if err == nil || !strings.Contains(err.Error(), "cloudflare.coalesce was removed") {
			t.Errorf("%q: err = %v, want it to say cloudflare.coalesce was removed", body, err)
		}
	}
	// The variable asking for what always happens is ignored, as unknown
	// variables are; asking to turn coalescing off is an error.
	for v, want := range map[string]string{"true": "", "false": "cloudflare.coalesce was removed", "maybe": "cloudflare.coalesce was removed"} {
		_, err := Load("", env(map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z", "EDGEPURGE_COALESCE": v}))
		if (want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("EDGEPURGE_COALESCE=%s: err = %v, want %q", v, err, want)
		}
	}
}

// The edge check's key was verify: a file that still says verify fails to
// load naming edge_check.
func TestRenamedVerifyIsRefused(t *testing.T) {
	for body, want := range map[string]string{
		"defaults:\n  verify: {enabled: true, edge: \"http://127.0.0.1:6081\"}\n":  "defaults.verify was renamed edge_check",
		"pages:\n  p1:\n    hosts: [a.example.com]\n    verify: {enabled: true}\n": "pages.p1.verify was renamed edge_check",
	} {
		getenv := env(map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"})
		_, err := Load(writeFile(t, body), getenv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to say %q", body, err, want)
		}
	}
}

// Config errors speak in keys, lines and forms, never Go types, and a file
// has all its problems reported at once.
func TestFileErrorsPlainWords(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"duration", "dry_run: true\nserver:\n  purge_timeout: 10\n", []string{"server.purge_timeout: line 3: want a duration such as 10s, got 10"}},
		{"bool", "dry_run: yes-please\n", []string{"dry_run: line 1: want true or false, got yes-please"}},
		{"two misspelt keys", "dry_run: true\ndefaults:\n  hosts: [a.example.com]\n  tag: [x]\nauth:\n  api_tokn: x\n", []string{
			"defaults.tag: line 4: unknown key; did you mean tags?",
			"auth.api_tokn: line 6: unknown key; did you mean api_token?",
		}},
		{"nested in a page", "dry_run: true\npages:\n  p1:\n    hosts: [a.example.com]\n    edge_check: {enabled: 1}\n", []string{"pages.p1.edge_check.enabled: line 5: want true or false, got 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body), env(nil))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "time.Duration") {
				t.Errorf("err speaks Go: %v", err)
			}
		})
	}
	// A secret of the wrong shape is not quoted.
	_, err := Load(writeFile(t, "dry_run: true\nauth:\n  webhook_secrets: whsec_hidden\n"), env(nil))
	if err == nil || strings.Contains(err.Error(), "whsec_hidden") || !strings.Contains(err.Error(), "auth.webhook_secrets: line 3: want a list") {
		t.Errorf("err = %v", err)
	}
}

func TestRedisURLErrors(t *testing.T) {
	_, err := Load("", env(map[string]string{"EDGEPURGE_DRY_RUN": "true", "REDIS_URL": "s3cret@localhost:6379"}))
	if err == nil || !strings.Contains(err.Error(), "redis:// or rediss:// scheme is missing") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v, want the missing scheme named and the value hidden", err)
	}
	// The file says sentinel, the environment's URL (which wins) names no master.
	p := writeFile(t, "dry_run: true\nredis:\n  mode: sentinel\n  url: redis://s1:26379?master_name=m\n")
	_, err = Load(p, env(map[string]string{"REDIS_URL": "redis://localhost:26379"}))
	want := "REDIS_URL is set and overrides redis.url: add ?master_name=NAME to REDIS_URL, or set redis.mode: single in " + p
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want a start-up error saying %q", err, want)
	}
	// Without REDIS_URL, the file's own URL is the one to fix.
	p2 := writeFile(t, "dry_run: true\nredis:\n  mode: sentinel\n  url: redis://s1:26379\n")
	_, err = Load(p2, env(nil))
	want = "redis.url names no master: add ?master_name=NAME to redis.url, or set redis.mode: single, in " + p2
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if _, err := Load(p, env(nil)); err != nil {
		t.Errorf("the file's sentinel URL names its master: %v", err)
	}
}

// A Cloudflare token without a zone names the settings that fix it.
func TestTokenWithoutZoneNamesTheFix(t *testing.T) {
	_, err := Load("", env(map[string]string{"CLOUDFLARE_API_TOKEN": "x", "EDGEPURGE_HOSTS": "{page_id}.status.example.com"}))
	want := "the default rule (defaults, EDGEPURGE_HOSTS) has no Cloudflare zone: set CLOUDFLARE_ZONE_ID (or cloudflare.zone_id / defaults.zone) to the zone's id, or unset CLOUDFLARE_API_TOKEN for a dry run (make run), or set EDGEPURGE_DRY_RUN=true"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	p := writeFile(t, "pages:\n  p1:\n    hosts: [status.p1.test]\n")
	_, err = Load(p, env(map[string]string{"CLOUDFLARE_API_TOKEN": "x"}))
	if want := `page "p1" has no Cloudflare zone: set pages.p1.zone, or CLOUDFLARE_ZONE_ID (cloudflare.zone_id) to the zone's id`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
