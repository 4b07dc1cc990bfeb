package main

import (
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/fastlystub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// FASTLY_API_TOKEN, FASTLY_SERVICE_ID and EDGEPURGE_HOSTS alone are a valid
// setup; check proves the service by a probe purge (and reads the token and
// the service as detail), and names what is broken.
func TestCheckFastly(t *testing.T) {
	const token, service = "fastly-cli-token", "svc0cli"
	stub := fastlystub.New(fastlystub.Options{Tokens: []string{token}, Services: []string{service}})
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	env := func(tok, svc string) []string {
		return []string{
			"EDGEPURGE_CONFIG=", "EDGEPURGE_DRY_RUN=", "CLOUDFLARE_API_TOKEN=",
			"FASTLY_API_TOKEN=" + tok, "FASTLY_SERVICE_ID=" + svc, "FASTLY_BASE_URL=" + base,
			"EDGEPURGE_HOSTS={page_id}.status.example.com", "REDIS_URL=" + sharedRedisURL,
			"EDGEPURGE_API_TOKEN=" + proc.APIToken, "EDGEPURGE_WEBHOOK_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}
	}
	out, code := proc.Run(t, env(token, service), "check")
	if code != 0 || !strings.HasPrefix(lineOf(out, "fastly token"), "✓") || !strings.HasPrefix(lineOf(out, "fastly service "+service), "✓") {
		t.Fatalf("good Fastly setup: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, env("wrong-token", service), "check")
	if code != 1 || !strings.HasPrefix(lineOf(out, "fastly service "+service), "✗") || !strings.Contains(lineOf(out, "fastly service "+service), "401") {
		t.Errorf("bad token: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, env(token, "svcunknown"), "check")
	if code != 1 || !strings.HasPrefix(lineOf(out, "fastly service svcunknown"), "✗") || !strings.Contains(lineOf(out, "fastly service svcunknown"), "404") {
		t.Errorf("unknown service: exit %d:\n%s", code, out)
	}
	if strings.Contains(out, token) {
		t.Errorf("the token was printed:\n%s", out)
	}
}
