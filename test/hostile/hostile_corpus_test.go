package hostile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// badCase is one hostile request and the answer it must get.
type badCase struct {
	name   string
	req    string // the raw HTTP request
	status int
	msg    string // a substring of the answer's body
	allow  string // the Allow header of a 405
}

// corpusMaxPlanURLs is the plan ceiling of the corpus's app: a page.updated
// of p0 (30 URLs) is over it, an incident update (22) is under.
const corpusMaxPlanURLs = 25

// startCorpusApp runs the app the corpus is sent to: the base config, with
// a low plan ceiling and no default rule.
func startCorpusApp(t *testing.T) *harness.H {
	t.Helper()
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Limits.MaxPlanURLs = corpusMaxPlanURLs
	})
	h.WaitReady()
	return h
}

// badCorpus is every kind of bad request the service must refuse without
// purging anything. Each request is well-formed except for its one flaw, so
// the answer proves that flaw is caught.
func badCorpus(t *testing.T) []badCase {
	const (
		hookPath = "/v1/hooks/events"
		spPath   = "/v1/hooks/statuspage/" + harness.TestSPToken
		good     = `{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`
	)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	bearer := harness.With(jsonCT, "Authorization", "Bearer "+harness.TestAPIToken)
	signed := func(body string) map[string]string {
		return harness.SignedHeaders(t, harness.TestSecret, fmt.Sprintf("msg_bad_%d", time.Now().UnixNano()), 0, body)
	}
	// hook sends a correctly signed event whose body is the flaw.
	hook := func(name, body string, status int, msg string) badCase {
		return badCase{name: name, req: harness.RawRequest("POST", hookPath, signed(body), body), status: status, msg: msg}
	}
	// field sends a correctly signed event with one bad field.
	field := func(name, fields, msg string) badCase {
		body := `{"type":"incident.updated","page_id":"p0",` + fields + `}`
		return hook(name, body, http.StatusBadRequest, msg)
	}
	manual := func(name, body string, status int, msg string) badCase {
		return badCase{name: name, req: harness.RawRequest("POST", "/v1/purge", bearer, body), status: status, msg: msg}
	}
	statuspage := func(name, body string, msg string) badCase {
		return badCase{name: name, req: harness.RawRequest("POST", spPath, jsonCT, body), status: http.StatusBadRequest, msg: msg}
	}
	otherSecret := "whsec_" + "c2VjcmV0LW9mLXNvbWVvbmUtZWxzZQ=="
	nested := `{"type":"incident.updated","page_id":"p0","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	manyTags := `"tags":["t"` + strings.Repeat(`,"t"`, 1000) + `]`
	cases := []badCase{
		// Wrong methods and paths.
		{name: "GET a hook", req: harness.RawRequest("GET", hookPath, nil, ""), status: 405, msg: "method GET not allowed; use POST", allow: "POST"},
		{name: "PUT the manual purge", req: harness.RawRequest("PUT", "/v1/purge", bearer, good), status: 405, msg: "use POST", allow: "POST"},
		{name: "DELETE the statuspage hook", req: harness.RawRequest("DELETE", spPath, nil, ""), status: 405, msg: "use POST", allow: "POST"},
		{name: "POST a probe", req: harness.RawRequest("POST", "/healthz", jsonCT, good), status: 405, msg: "use GET, HEAD", allow: "GET, HEAD"},
		{name: "made-up method", req: harness.RawRequest("BREW", hookPath, jsonCT, good), status: 405, msg: "method BREW not allowed", allow: "POST"},
		{name: "unknown path", req: harness.RawRequest("GET", "/admin", nil, ""), status: 404, msg: "no such endpoint"},
		{name: "hook path typo", req: harness.RawRequest("POST", "/v1/hooks/event", signed(good), good), status: 404, msg: "no such endpoint"},
		{name: "statuspage without a token segment", req: harness.RawRequest("POST", "/v1/hooks/statuspage", jsonCT, good), status: 404, msg: "no such endpoint"},
		{name: "path traversal", req: harness.RawRequest("POST", "/v1/hooks/../../etc/passwd", jsonCT, good), status: 404, msg: "no such endpoint"},

		// Content types.
		{name: "hook as text/plain", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "Content-Type", "text/plain"), good), status: 415, msg: "Content-Type must be application/json"},
		{name: "hook without Content-Type", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "Content-Type", ""), good), status: 415, msg: "Content-Type must be application/json"},
		{name: "statuspage as a form", req: harness.RawRequest("POST", spPath, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "page=p0"), status: 415, msg: "Content-Type must be application/json"},
		{name: "manual purge as multipart", req: harness.RawRequest("POST", "/v1/purge", harness.With(bearer, "Content-Type", "multipart/form-data; boundary=x"), good), status: 415, msg: "Content-Type must be application/json"},

		// Sizes and framing.
		{name: "100 MB declared, tiny body", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "Content-Length", "100000000"), "{}"), status: 413, msg: "body too large: the limit is 1048576 bytes"},
		{name: "100 MB declared with Expect: 100-continue", req: harness.RawRequest("POST", "/v1/purge", harness.With(bearer, "Content-Length", "100000000", "Expect", "100-continue"), ""), status: 413, msg: "body too large"},
		{name: "100 MB chunk", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "Transfer-Encoding", "chunked"), "5F5E100\r\n{}"), status: 413, msg: "body too large"},
		{name: "8 KiB header", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-signature", "v1,"+strings.Repeat("A", 8192)), good), status: 431, msg: "request headers too large"},
		{name: "not HTTP", req: "HELLO THERE\r\n\r\n", status: 400, msg: "malformed HTTP request"},
		{name: "header-only hook", req: harness.RawRequest("POST", hookPath, jsonCT, ""), status: 401, msg: "signature invalid"},
		{name: "header-only signed hook", req: harness.RawRequest("POST", hookPath, signed(""), ""), status: 400, msg: "malformed JSON at offset 0: empty body"},
		{name: "header-only manual purge", req: harness.RawRequest("POST", "/v1/purge", bearer, ""), status: 400, msg: "empty body"},

		// Signatures.
		{name: "no webhook headers", req: harness.RawRequest("POST", hookPath, jsonCT, good), status: 401, msg: "signature invalid"},
		{name: "no webhook-signature", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-signature", ""), good), status: 401, msg: "signature invalid"},
		{name: "no webhook-timestamp", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-timestamp", ""), good), status: 401, msg: "signature invalid"},
		{name: "no webhook-id", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-id", ""), good), status: 401, msg: "signature invalid"},
		{name: "garbage signature", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-signature", "v1,AAAA"), good), status: 401, msg: "signature invalid"},
		{name: "signed with another secret", req: harness.RawRequest("POST", hookPath, harness.SignedHeaders(t, otherSecret, "msg_other", 0, good), good), status: 401, msg: "signature invalid"},
		{name: "expired timestamp", req: harness.RawRequest("POST", hookPath, harness.SignedHeaders(t, harness.TestSecret, "msg_old", -10*time.Minute, good), good), status: 401, msg: "signature invalid"},
		{name: "future timestamp", req: harness.RawRequest("POST", hookPath, harness.SignedHeaders(t, harness.TestSecret, "msg_future", 10*time.Minute, good), good), status: 401, msg: "signature invalid"},
		{name: "timestamp not a number", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-timestamp", "yesterday"), good), status: 401, msg: "signature invalid"},
		{name: "body changed after signing", req: harness.RawRequest("POST", hookPath, signed(good), strings.Replace(good, "p0", "p1", 1)), status: 401, msg: "signature invalid"},
		{name: "signature of another id", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-id", "msg_replayed"), good), status: 401, msg: "signature invalid"},
		{name: "only a v1a signature", req: harness.RawRequest("POST", hookPath, harness.With(signed(good), "webhook-signature", "v1a,"+strings.Repeat("A", 86)+"=="), good), status: 401, msg: "signature invalid"},

		// Tokens.
		{name: "wrong statuspage token", req: harness.RawRequest("POST", "/v1/hooks/statuspage/guess", jsonCT, good), status: 401, msg: "token invalid"},
		{name: "empty statuspage token", req: harness.RawRequest("POST", "/v1/hooks/statuspage/", jsonCT, good), status: 401, msg: "token invalid"},
		{name: "statuspage token prefix", req: harness.RawRequest("POST", spPath[:len(spPath)-1], jsonCT, good), status: 401, msg: "token invalid"},
		{name: "statuspage token with a suffix", req: harness.RawRequest("POST", spPath+"/x", jsonCT, good), status: 401, msg: "token invalid"},
		{name: "no Authorization", req: harness.RawRequest("POST", "/v1/purge", jsonCT, good), status: 401, msg: "token invalid"},
		{name: "wrong bearer token", req: harness.RawRequest("POST", "/v1/purge", harness.With(jsonCT, "Authorization", "Bearer guess"), good), status: 401, msg: "token invalid"},
		{name: "API token as Basic", req: harness.RawRequest("POST", "/v1/purge", harness.With(jsonCT, "Authorization", "Basic "+harness.TestAPIToken), good), status: 401, msg: "token invalid"},
		{name: "Bearer without a token", req: harness.RawRequest("POST", "/v1/purge", harness.With(jsonCT, "Authorization", "Bearer"), good), status: 401, msg: "token invalid"},
		{name: "API token in the statuspage path", req: harness.RawRequest("POST", "/v1/hooks/statuspage/"+harness.TestAPIToken, jsonCT, good), status: 401, msg: "token invalid"},

		// Malformed JSON, correctly signed.
		hook("truncated JSON", `{"type":"incident.updated","page_id":`, 400, "malformed JSON at offset 37: unexpected end of JSON input"),
		hook("top-level array", `[`+good+`]`, 400, "malformed JSON at offset 1: the body must be a JSON object, not an array"),
		hook("top-level string", `"p0"`, 400, "the body must be a JSON object, not a string"),
		hook("top-level number", `17`, 400, "the body must be a JSON object, not a number"),
		hook("top-level null", `null`, 400, "the body must be a JSON object"),
		hook("trailing data", good+`{}`, 400, "unexpected data after the JSON object"),
		hook("duplicate key", `{"page_id":"p1","type":"page.updated","page_id":"p0"}`, 400, `duplicate key \"page_id\"`),
		hook("duplicate key in another case", `{"page_id":"p0","Page_Id":"p1"}`, 400, `duplicate key \"Page_Id\"`),
		hook("deeply nested", nested, 400, "exceeded max depth"),
		hook("invalid UTF-8", "{\"page_id\":\"p0\",\"x\":\"\xff\xfe\"}", 400, "invalid UTF-8 (byte 0xff)"),
		hook("raw NUL byte", "{\"page_id\":\"p0\x00\"}", 400, `invalid character '\\x00' in string`),
		hook("single quotes", `{'page_id':'p0'}`, 400, "malformed JSON at offset 2"),

		// Bad fields, correctly signed.
		hook("missing page_id", `{"type":"incident.updated"}`, 400, `field \"page_id\": required`),
		hook("empty page_id", `{"type":"incident.updated","page_id":""}`, 400, `field \"page_id\": required, must not be empty`),
		hook("page_id a number", `{"page_id":7}`, 400, `field \"page_id\": must be a string, not a number`),
		field("component_ids a string", `"component_ids":"c1"`, `field \"component_ids\": must be an array of strings, not a string`),
		field("component id a number", `"component_ids":["c1",2]`, `field \"component_ids\": must be a string, not a number`),
		hook("unknown type", `{"type":"incident.exploded","page_id":"p0"}`, 400, `field \"type\": unknown type \"incident.exploded\"`),
		hook("page_id with a slash", `{"page_id":"p0/../p1"}`, 400, `field \"page_id\": character '/' at byte 2`),
		field("incident_id ..", `"incident_id":".."`, `field \"incident_id\": must not contain \"..\"`),
		field("component id with template braces", `"component_ids":["{page_id}"]`, `field \"component_ids[0]\": character '{'`),
		hook("page_id with a control character", `{"page_id":"p0\u0007"}`, 400, `field \"page_id\": character '\\a' at byte 2`),
		hook("page_id too long", `{"page_id":"`+strings.Repeat("p", 129)+`"}`, 400, `field \"page_id\": longer than 128 bytes`),
		field("occurred_at not a time", `"occurred_at":"now"`, `field \"occurred_at\": must be an RFC 3339 timestamp`),
		field("URL with userinfo", `"urls":["https://admin:pw@p0.status.example.com/"]`, `field \"urls[0]\": must not contain a user or password`),
		field("URL with template braces", `"urls":["https://p0.status.example.com/{incident_id}"]`, `field \"urls[0]\": character '{' at byte 30`),
		field("URL with a control character", `"urls":["https://p0.status.example.com/\u0000"]`, `field \"urls[0]\": character '\\x00' at byte 30`),
		field("URL with a newline", `"urls":["https://p0.status.example.com/\r\nX-Injected: 1"]`, `field \"urls[0]\": character '\\r'`),
		field("relative URL", `"urls":["/history"]`, `field \"urls[0]\": must be an absolute http or https URL`),
		field("javascript URL", `"urls":["javascript:alert(1)"]`, `field \"urls[0]\": must be an absolute http or https URL`),
		field("tag with a space", `"tags":["page p0"]`, `field \"tags[0]\": character ' ' at byte 4`),
		field("tag with a comma", `"tags":["a,b"]`, `field \"tags[0]\": character ',' at byte 1`),
		field("key with a space", `"keys":["statuspage:p0 summary"]`, `field \"keys[0]\": character ' ' at byte 13`),
		field("key with a template", `"keys":["statuspage:{page_id}:summary"]`, `field \"keys[0]\": {page_id} at byte 11 looks like an unexpanded template`),
		field("too many tags", manyTags, `field \"tags\": 1001 entries, more than the limit of 1000`),
		{name: "webhook-id with a space", req: harness.RawRequest("POST", hookPath, harness.SignedHeaders(t, harness.TestSecret, "msg 1", 0, good), good), status: 400, msg: `field \"webhook-id\": character ' ' at byte 3`},
		{name: "webhook-id with a slash", req: harness.RawRequest("POST", hookPath, harness.SignedHeaders(t, harness.TestSecret, "msg/../1", 0, good), good), status: 400, msg: `field \"webhook-id\": character '/'`},

		// Statuspage bodies, right token.
		statuspage("statuspage truncated", `{"page":{"id":"p0"},"incident":`, "statuspage notification: malformed JSON at offset 31"),
		statuspage("statuspage page id with a slash", `{"page":{"id":"p0/x"},"incident":{"id":"i1"}}`, `field \"page.id\": character '/'`),
		statuspage("statuspage without incident or component", `{"page":{"id":"p0"}}`, `field \"incident\": neither incident nor component_update is present`),
		statuspage("statuspage duplicate key", `{"page":{"id":"p0"},"incident":{"id":"i1","id":"i2"}}`, `duplicate key \"id\"`),
		statuspage("statuspage array", `[{"page":{"id":"p0"}}]`, "not an array"),

		// Manual purges, right token.
		manual("manual unknown field", `{"page_id":"p0","url":"https://p0.status.example.com/"}`, 400, `field \"url\": unknown field`),
		manual("manual everything as a string", `{"everything":"yes"}`, 400, `field \"everything\": must be a boolean, not a string`),
		manual("manual prefix with a scheme", `{"prefixes":["https://p0.status.example.com/api/"]}`, 400, `field \"prefixes[0]\": a prefix has no scheme`),
		manual("manual nothing to purge", `{}`, 400, `field \"page_id\": nothing to purge`),
		manual("manual host with a path", `{"hosts":["p0.status.example.com/x"]}`, 400, `field \"hosts[0]\": character '/'`),

		// Well-formed, nothing to do.
		hook("plan over the URL ceiling", `{"type":"page.updated","page_id":"p0"}`, 422, fmt.Sprintf("more than the limit of %d", corpusMaxPlanURLs)),
		hook("unknown page without a default rule", `{"type":"page.updated","page_id":"nope"}`, 422, "unknown page and no default rule"),
	}
	return cases
}

func TestHostileCorpus(t *testing.T) {
	h := startCorpusApp(t)
	seeded := h.SeedRedis()
	cases := badCorpus(t)
	if len(cases) < 40 {
		t.Fatalf("the corpus has %d cases, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			a := h.Send(c.req)
			if a.Status != c.status || !strings.Contains(a.Body, c.msg) {
				t.Errorf("answer %d %s\nwant %d containing %s", a.Status, a.Body, c.status, c.msg)
			}
			if got := a.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(a.Body), &e); err != nil || e.Error == "" {
				t.Errorf("answer is not a JSON error: %s", a.Body)
			}
			// Nothing waits for the bytes that never come (100 MB declared).
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("answered after %v", d)
			}
		})
	}
	if calls := h.Stub.PurgeCalls(); len(calls) != 0 {
		t.Errorf("the Cloudflare stand-in saw %d purge calls: %+v", len(calls), calls)
	}
	seeded.AssertUntouched(t)
	// Still serving: a good event is purged.
	if code, raw := h.SendEvent("msg_after_corpus", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`)); code != http.StatusOK {
		t.Errorf("good event after the corpus: %d %s", code, raw)
	}
}
