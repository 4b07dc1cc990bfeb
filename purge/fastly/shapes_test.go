package fastly

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

// TestErrorShapesReadIntoMessage sends each of Fastly's error forms through
// the real client: the message is read from every form, the token never
// shows, and retryable or permanent follows the status alone.
func TestErrorShapesReadIntoMessage(t *testing.T) {
	shapes := []struct {
		name  string
		shape fastlystub.Shape
		want  string
	}{
		{"legacy", fastlystub.ShapeLegacy, "Bad request: key [token] is not valid"},
		{"jsonapi", fastlystub.ShapeJSONAPI, "Bad request: key [token] is not valid"},
		{"problem", fastlystub.ShapeProblem, "Bad request: key [token] is not valid"},
		{"status fail", fastlystub.ShapeStatusFail, "Bad request: key [token] is not valid"},
	}
	statuses := []struct {
		status    int
		retryable bool
	}{{400, false}, {403, false}, {404, false}, {429, true}, {500, true}, {503, true}}
	for _, sh := range shapes {
		for _, st := range statuses {
			t.Run(sh.name+"/"+http.StatusText(st.status), func(t *testing.T) {
				stub, base := startStub(t, fastlystub.Options{})
				stub.SetFailure(fastlystub.Failure{Status: st.status, Msg: "Bad request",
					Detail: "key " + testToken + " is not valid", Shape: sh.shape, RetryAfter: time.Second})
				p := newPurger(t, base, Config{})

				_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1)})

				pe := purgeError(t, err)
				want := sh.want
				if st.status == http.StatusForbidden {
					want += "; give the token scope purge_select"
				}
				if pe.Message != want || pe.StatusCode != st.status || pe.Retryable != st.retryable {
					t.Errorf("err = %q status %d retryable %t\nwant  %q status %d retryable %t",
						pe.Message, pe.StatusCode, pe.Retryable, want, st.status, st.retryable)
				}
				assertNoSecret(t, err.Error())
			})
		}
	}
}

// TestStubErrorShapeOption runs the stand-in's own refusals in the
// problem-detail form through the client: the unknown service's 404 and
// the token's 401 keep their messages and stay permanent.
func TestStubErrorShapeOption(t *testing.T) {
	_, base := startStub(t, fastlystub.Options{ErrorShape: fastlystub.ShapeJSONAPI})

	_, unknownErr := newPurger(t, base, Config{}).Purge(context.Background(), purge.Request{Zone: "nope", Tags: keys(1)})
	_, badErr := newPurger(t, base, Config{APIToken: wrongToken}).Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1)})

	unknown := purgeError(t, unknownErr)
	if unknown.StatusCode != 404 || unknown.Retryable || unknown.Message != fastlystub.MsgNotFound+": Cannot find service 'nope'" {
		t.Errorf("unknown service: %+v", unknown)
	}
	bad := purgeError(t, badErr)
	if bad.StatusCode != 401 || bad.Retryable || bad.Message != fastlystub.MsgBadCredentials {
		t.Errorf("bad token: %+v", bad)
	}
	assertNoSecret(t, badErr.Error())
}

// TestMessageForms reads bodies in Fastly's recorded forms, as Fastly
// sends them (go-fastly's fixtures and fastly-magento2#104), and odd
// variants of them.
func TestMessageForms(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"legacy", `{"msg":"Record not found","detail":"Cannot find service 'x'"}`, "Record not found: Cannot find service 'x'"},
		{"legacy msg only", `{"msg":"Record not found"}`, "Record not found"},
		{"legacy title", `{"title":"Bad request","detail":"unrecognized region zz"}`, "Bad request: unrecognized region zz"},
		{"jsonapi", `{"errors":[{"title":"Not found","detail":"The subscription you requested was not found"}]}`,
			"Not found: The subscription you requested was not found"},
		{"jsonapi two", `{"errors":[{"id":"a","title":"Bad","detail":"one","status":"400"},{"detail":"two"}]}`, "Bad: one: two"},
		{"legacy errors with reason", `{"errors":[{"code":"bad_key","reason":"key too long","index":3}]}`, "bad_key: key too long"},
		{"problem", `{"type":"https://fastly.help/alerts/not-found","title":"The content you requested could not be found","status":404,"errors":null,"detail":""}`,
			"The content you requested could not be found"},
		{"problem with detail", `{"type":"https://www.fastly.com/documentation/reference/api/","title":"Bad request","detail":"WebP quality must be less than or equal to 100."}`,
			"Bad request: WebP quality must be less than or equal to 100."},
		{"status fail", `{"status": "fail", "reason": "Batch surrogate key request only supports up to 256 surrogate keys"}`,
			"Batch surrogate key request only supports up to 256 surrogate keys"},
		{"status fail without reason", `{"status":"fail"}`, "status fail"},
		{"odd types", `{"msg":{"a":1},"detail":42,"errors":"nope"}`, "42"},
		{"html", "<html><body>Bad   Gateway</body></html>", "unexpected answer: <html><body>Bad Gateway</body></html>"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message([]byte(tt.body)); got != tt.want {
				t.Errorf("message(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// TestStatusFailWithoutContentTypeReachesClient: the too-many-keys answer
// read through the client when Fastly sends it with another Content-Type
// (which the report does not give): the form is read from the body.
func TestStatusFailWithoutContentTypeReachesClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status": "fail", "reason": "Batch surrogate key request only supports up to 256 surrogate keys"}`))
	}))
	t.Cleanup(srv.Close)
	p := newPurger(t, srv.URL, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(2)})

	pe := purgeError(t, err)
	if pe.Retryable || pe.StatusCode != 400 || pe.Message != "Batch surrogate key request only supports up to 256 surrogate keys" {
		t.Errorf("err = %+v, want permanent 400 with the reason", pe)
	}
}
