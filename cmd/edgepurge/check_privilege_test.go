package main

import (
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/fastlystub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/varnishtest"
)

// The account of the account-owned token in these tests.
const testAccount = "0123456789abcdef0123456789abcdef"

// checkWith runs edgepurge check with opsEnv against a stand-in of opts,
// plus extra variables.
func checkWith(t *testing.T, opts cfstub.Options, extra ...string) (string, int) {
	t.Helper()
	_, base := startStub(t, opts)
	return proc.Run(t, append(opsEnv(base, sharedRedisURL), extra...), "check")
}

// Least privilege passes the gate: a token that may purge but not read the
// zone (a user token, or an account-owned one with its account id) is
// proven by its probe purge; the reads it may not make are skipped.
func TestCheckPassesWithLeastPrivilegeCloudflareTokens(t *testing.T) {
	zone := "cloudflare zone " + proc.Zone
	for _, tc := range []struct {
		name      string
		token     cfstub.Token
		env       []string
		tokenLine string
	}{
		{name: "user token with Cache Purge only", token: cfstub.Token{Value: proc.CFToken, Permissions: []string{cfstub.PermCachePurge}},
			tokenLine: "valid and active (user token"},
		{name: "account token with Cache Purge only", token: cfstub.Token{Value: proc.CFToken, Account: testAccount, Permissions: []string{cfstub.PermCachePurge}},
			env: []string{"CLOUDFLARE_ACCOUNT_ID=" + testAccount}, tokenLine: "valid and active (account token, verified at /accounts/" + testAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := checkWith(t, cfstub.Options{ScopedTokens: []cfstub.Token{tc.token}}, tc.env...)
			if code != 0 || !strings.HasSuffix(out, "all checks passed\n") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if l := lineOf(out, zone); !strings.HasPrefix(l, "✓") || !strings.Contains(l, "purged https://") {
				t.Errorf("probe line %q", l)
			}
			if l := lineOf(out, "cloudflare token"); !strings.HasPrefix(l, "✓") || !strings.Contains(l, tc.tokenLine) {
				t.Errorf("token line %q, want ✓ and %q", l, tc.tokenLine)
			}
			if l := lineOf(out, "read "+zone); !strings.HasPrefix(l, "–") || !strings.Contains(l, "skipped: the token lacks Zone → Zone → Read, which purging does not need") {
				t.Errorf("zone read line %q: want skipped, naming the permission", l)
			}
			if strings.Contains(out, proc.CFToken) {
				t.Errorf("the token was printed:\n%s", out)
			}
		})
	}
}

// What cannot purge fails the gate, and the line says what to fix.
func TestCheckNamesTheFixForCloudflareCredentials(t *testing.T) {
	zone := "cloudflare zone " + proc.Zone
	for _, tc := range []struct {
		name    string
		opts    cfstub.Options
		env     []string
		line    string
		reasons []string
	}{{
		name:    "token without Cache Purge",
		opts:    cfstub.Options{ScopedTokens: []cfstub.Token{{Value: proc.CFToken, Permissions: []string{cfstub.PermZoneRead}}}},
		line:    zone,
		reasons: []string{"HTTP 403", "Zone → Cache Purge → Purge on zone " + proc.Zone},
	}, {
		name:    "token with Cache Purge on another zone",
		opts:    cfstub.Options{ScopedTokens: []cfstub.Token{{Value: proc.CFToken, Permissions: []string{cfstub.PermCachePurge}, Zones: []string{"another-zone"}}}},
		line:    zone,
		reasons: []string{"Zone → Cache Purge → Purge on zone " + proc.Zone},
	}, {
		name:    "wrong token",
		opts:    cfstub.Options{Tokens: []string{"another-token"}},
		line:    zone,
		reasons: []string{"HTTP 403", "invalid"},
	}, {
		name:    "account token without its account id",
		opts:    cfstub.Options{ScopedTokens: []cfstub.Token{{Value: proc.CFToken, Account: testAccount, Permissions: []string{cfstub.PermZoneRead}}}},
		line:    "cloudflare token",
		reasons: []string{"HTTP 401", "account-owned", "CLOUDFLARE_ACCOUNT_ID"},
	}, {
		name:    "unknown zone",
		opts:    cfstub.Options{Tokens: []string{proc.CFToken}, Zones: []string{"some-other-zone"}},
		line:    zone,
		reasons: []string{"HTTP 400", "code 7003"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := checkWith(t, tc.opts, tc.env...)
			if code != 1 || !strings.Contains(out, "CHECK FAILED") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			l := lineOf(out, tc.line)
			if !strings.HasPrefix(l, "✗") {
				t.Errorf("line %q should fail:\n%s", tc.line, out)
			}
			for _, r := range tc.reasons {
				if !strings.Contains(l, r) {
					t.Errorf("line %q lacks %q", l, r)
				}
			}
			if strings.Contains(out, proc.CFToken) {
				t.Errorf("the token was printed:\n%s", out)
			}
		})
	}
}

// A Fastly token limited to purge_select passes: it purges the probe URL
// and key; the service read it may not make is skipped. Without a purge
// scope it fails, naming the scope.
func TestCheckFastlyLeastPrivilege(t *testing.T) {
	const token, service = "fastly-select-token", "svc0least"
	run := func(scopes []string, svc string) (string, int) {
		stub := fastlystub.New(fastlystub.Options{Tokens: []string{token}, Services: []string{service}, Scopes: map[string][]string{token: scopes}})
		base, err := stub.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stub.Close)
		return proc.Run(t, []string{
			"EDGEPURGE_CONFIG=", "EDGEPURGE_DRY_RUN=", "CLOUDFLARE_API_TOKEN=",
			"FASTLY_API_TOKEN=" + token, "FASTLY_SERVICE_ID=" + svc, "FASTLY_BASE_URL=" + base,
			"EDGEPURGE_HOSTS={page_id}.status.example.com", "REDIS_URL=" + sharedRedisURL,
			"EDGEPURGE_API_TOKEN=" + proc.APIToken, "EDGEPURGE_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}, "check")
	}
	out, code := run([]string{fastlystub.ScopePurgeSelect}, service)
	if code != 0 {
		t.Fatalf("purge_select token: exit %d:\n%s", code, out)
	}
	if l := lineOf(out, "fastly service "+service); !strings.HasPrefix(l, "✓") || !strings.Contains(l, "and tag edgepurge-probe") {
		t.Errorf("probe line %q", l)
	}
	if l := lineOf(out, "read fastly service "+service); !strings.HasPrefix(l, "–") || !strings.Contains(l, "global:read") {
		t.Errorf("service read line %q: want skipped, naming global:read", l)
	}

	out, code = run([]string{fastlystub.ScopeGlobalRead}, service)
	if l := lineOf(out, "fastly service "+service); code != 1 || !strings.HasPrefix(l, "✗") || !strings.Contains(l, "purge_select") {
		t.Errorf("read-only token: exit %d, probe line %q:\n%s", code, l, out)
	}
	out, code = run([]string{fastlystub.ScopePurgeSelect}, "svcunknown")
	if l := lineOf(out, "fastly service svcunknown"); code != 1 || !strings.HasPrefix(l, "✗") || !strings.Contains(l, "404") {
		t.Errorf("unknown service: exit %d, probe line %q:\n%s", code, l, out)
	}
	if strings.Contains(out, token) {
		t.Errorf("the token was printed:\n%s", out)
	}
}

// Varnish gets the gate like the CDNs: every node purges the probe; a dead
// node fails the gate, named.
func TestCheckVarnishNodes(t *testing.T) {
	live := varnishtest.Start(t, varnishtest.Options{Origin: "127.0.0.1:9"})
	dead := varnishtest.Start(t, varnishtest.Options{Origin: "127.0.0.1:9"})
	dead.Stop()
	env := []string{
		"EDGEPURGE_CONFIG=", "EDGEPURGE_DRY_RUN=", "CLOUDFLARE_API_TOKEN=",
		"EDGEPURGE_HOSTS={page_id}.status.example.com", "REDIS_URL=" + sharedRedisURL,
		"EDGEPURGE_API_TOKEN=" + proc.APIToken, "EDGEPURGE_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	out, code := proc.Run(t, append(env, "EDGEPURGE_VARNISH_URLS="+live.URL()), "check")
	if l := lineOf(out, "varnish node "+live.URL()); code != 0 || !strings.HasPrefix(l, "✓") {
		t.Fatalf("live node: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, append(env, "EDGEPURGE_VARNISH_URLS="+live.URL()+","+dead.URL()), "check")
	if code != 1 || !strings.HasPrefix(lineOf(out, "varnish node "+live.URL()), "✓") {
		t.Fatalf("one node down: exit %d:\n%s", code, out)
	}
	if l := lineOf(out, "varnish node "+dead.URL()); !strings.HasPrefix(l, "✗") || !strings.Contains(l, "connection refused") {
		t.Errorf("dead node's line %q:\n%s", l, out)
	}
}
