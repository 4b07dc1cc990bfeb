package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/akamaistub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// An .edgerc section (AKAMAI_EDGERC, AKAMAI_EDGERC_SECTION) and
// EDGEPURGE_HOSTS alone are a valid Akamai setup: check proves the network
// by the probe purge (an invalidation; Fast Purge has no read-only call),
// and wrong credentials fail it naming what to fix, never printing them.
func TestCheckAkamai(t *testing.T) {
	const host, client, secret, access = "akab-cli-000000000000.luna.akamaiapis.net", "akab-client-cli-0000",
		"Y2xpLWNsaWVudC1zZWNyZXQtZG8tbm90LXByaW50LTA=", "akab-access-cli-0000"
	stub := akamaistub.New(akamaistub.Options{Host: host, Clients: []akamaistub.Client{{ClientToken: client, ClientSecret: secret, AccessToken: access}}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	rc := filepath.Join(t.TempDir(), ".edgerc")
	content := "[default]\nhost = " + host + "\nclient_token = " + client + "\nclient_secret = " + secret + "\naccess_token = " + access + "\n" +
		"[wrong]\nhost = " + host + "\nclient_token = " + client + "\nclient_secret = d3JvbmctY2xpZW50LXNlY3JldC0wMDAwMDAwMDAwMDA=\naccess_token = " + access + "\n"
	if err := os.WriteFile(rc, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(section string) []string {
		return []string{
			"EDGEPURGE_CONFIG=", "EDGEPURGE_DRY_RUN=", "CLOUDFLARE_API_TOKEN=", "FASTLY_API_TOKEN=",
			"AKAMAI_EDGERC=" + rc, "AKAMAI_EDGERC_SECTION=" + section, "AKAMAI_BASE_URL=" + base,
			"EDGEPURGE_HOSTS={page_id}.status.example.com", "REDIS_URL=" + sharedRedisURL,
			"EDGEPURGE_API_TOKEN=" + proc.APIToken, "EDGEPURGE_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}
	}
	const line = "akamai network production"
	out, code := proc.Run(t, env("default"), "check")
	if code != 0 || !strings.HasPrefix(lineOf(out, line), "✓") {
		t.Fatalf("good Akamai setup: exit %d:\n%s", code, out)
	}
	if _, ok := stub.Purged("production")["edgepurge-probe"]; !ok {
		t.Errorf("check did not invalidate the probe tag: %v", stub.Purged("production"))
	}
	out, code = proc.Run(t, env("wrong"), "check")
	if l := lineOf(out, line); code != 1 || !strings.HasPrefix(l, "✗") || !strings.Contains(l, "401") || !strings.Contains(l, "AKAMAI_CLIENT_SECRET") {
		t.Errorf("wrong secret: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, env("missing"), "check")
	if code != 1 || !strings.Contains(out, "no section [missing]") {
		t.Errorf("missing section: exit %d:\n%s", code, out)
	}
	for _, s := range []string{secret, access} {
		if strings.Contains(out, s) {
			t.Errorf("a credential was printed:\n%s", out)
		}
	}
}
