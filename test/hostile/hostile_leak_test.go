package hostile

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// secretsOf are every credential of the harness's config, in every form
// they could leak in.
func secretsOf(t *testing.T) map[string]string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(harness.TestSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"Cloudflare token":             harness.TestCFToken,
		"webhook secret":               harness.TestSecret,
		"webhook secret's base64":      strings.TrimPrefix(harness.TestSecret, "whsec_"),
		"webhook key bytes":            string(key),
		"Statuspage token":             harness.TestSPToken,
		"API token":                    harness.TestAPIToken,
		"Cloudflare token, URL-quoted": strings.ReplaceAll(harness.TestCFToken, "-", "%2D"),
	}
}

func TestNoSecretInLogsOrAnswers(t *testing.T) {
	h := startCorpusApp(t)
	var answers strings.Builder
	record := func(a harness.RawAnswer) {
		fmt.Fprintf(&answers, "%d %v %s\n", a.Status, a.Header, a.Body)
	}

	for _, c := range badCorpus(t) {
		record(h.Send(c.req))
	}
	// Requests that carry a real token but are wrong in some other way,
	// so the token is in bytes the server reads, parses and may log.
	spPath := "/v1/hooks/statuspage/" + harness.TestSPToken
	for _, req := range []string{
		"POST " + spPath + " HTTP/1.1\r\nHost: x\r\nHeader-Without-Colon\r\n\r\n",
		"POST " + spPath + " HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
		"POST /v1/purge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + harness.TestAPIToken + "\r\nContent-Length: -1\r\n\r\n",
		"POST /v1/purge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + harness.TestAPIToken + "\r\n" + strings.Repeat("X-Pad: y\r\n", 600) + "\r\n",
		"GET " + spPath + "/../../metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		harness.RawRequest("POST", "/v1/hook/statuspage/"+harness.TestSPToken, map[string]string{"Content-Type": "application/json"}, "{}"),
		harness.RawRequest("POST", spPath, map[string]string{"Content-Type": "application/json"}, `{"page":{"id":"`+harness.TestAPIToken+`/"}}`),
	} {
		record(h.Send(req))
	}
	// A purge the CDN refuses: the SDK's error is answered and logged.
	h.Stub.SetFailure(cfstub.Failure{Status: http.StatusForbidden, Codes: []int{10000}, Message: "Authentication error"})
	code, raw := h.SendEvent("msg_leak_cdn_failure", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	if code != http.StatusBadGateway {
		t.Errorf("CDN failure: %d %s", code, raw)
	}
	answers.Write(raw)
	h.Stub.ClearFailure()
	// A purge that works, and what an operator reads.
	_, raw = h.SendEvent("msg_leak_ok", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	answers.Write(raw)
	for _, path := range []string{"/metrics", "/readyz?verbose", "/version"} {
		_, body := h.Get(path)
		answers.WriteString(body)
	}
	// The audit trail of every purge above (an empty or 404 answer where it
	// is not configured).
	record(h.Send(harness.RawRequest("GET", "/v1/purges?limit=100", map[string]string{"Authorization": "Bearer " + harness.TestAPIToken}, "")))

	logs := h.Logs.String()
	if !strings.Contains(logs, "request rejected") || !strings.Contains(logs, "bad request") {
		t.Fatalf("the logs do not have the rejections; is logging on? %.500s", logs)
	}
	for name, secret := range secretsOf(t) {
		if i := strings.Index(logs, secret); i >= 0 {
			t.Errorf("the %s is in the logs: …%s…", name, logs[max(0, i-200):min(len(logs), i+len(secret)+50)])
		}
		if i := strings.Index(answers.String(), secret); i >= 0 {
			s := answers.String()
			t.Errorf("the %s is in an answer: …%s…", name, s[max(0, i-200):min(len(s), i+len(secret)+50)])
		}
	}
}
