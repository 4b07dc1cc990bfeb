package fastlystub

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// Messages of the stand-in's error answers.
const (
	// MsgBadCredentials is Fastly's msg for a missing or unknown Fastly-Key.
	MsgBadCredentials = "Provided credentials are missing or invalid"
	// MsgForbidden answers a token whose scope does not allow the call (the
	// stand-in's wording).
	MsgForbidden = "You are not authorized to perform this action"
	// MsgNotFound answers an unknown service (Fastly's "Record not found").
	MsgNotFound = "Record not found"
	// MsgBadRequest answers a malformed or oversized purge.
	MsgBadRequest = "Bad request"
	// MsgRateLimited answers a call over the rate limit (the stand-in's
	// wording).
	MsgRateLimited = "Too many requests"
	// ReasonTooManyKeys is the reason of a batch purge over the limit, a
	// format taking the limit: Fastly's words for 256, as reported in
	// fastly/fastly-magento2#104.
	ReasonTooManyKeys = "Batch surrogate key request only supports up to %d surrogate keys"
)

// Rate-limit headers Fastly sends on the answers of non-read calls.
const (
	// HeaderRateLimitRemaining is how many calls are left in the window.
	HeaderRateLimitRemaining = "Fastly-RateLimit-Remaining"
	// HeaderRateLimitReset is the Unix second at which the window resets.
	HeaderRateLimitReset = "Fastly-RateLimit-Reset"
)

// Shape is the form of an error answer's body. Fastly's API answers
// errors in several forms, by endpoint and age; docs/cdns.md lists each
// with its source.
type Shape int

const (
	// ShapeLegacy is {"msg": ..., "detail": ...} as application/json, the
	// form of the purge, token and service endpoints (go-fastly's
	// legacyError; its recorded fixtures, e.g. {"msg":"Record not found"}).
	ShapeLegacy Shape = iota
	// ShapeJSONAPI is {"errors":[{"title": ..., "detail": ...}]} as
	// application/vnd.api+json, the form of Fastly's JSON:API endpoints
	// (go-fastly's fixtures, e.g. fixtures/tls_subscription/cleanup.yaml).
	ShapeJSONAPI
	// ShapeProblem is an RFC 7807 problem detail, {"title": ...,
	// "detail": ..., "status": ...} as application/problem+json, the form
	// of Fastly's newer endpoints (go-fastly's fixtures, e.g.
	// fixtures/alerts/cleanup_alert_definition.yaml).
	ShapeProblem
	// ShapeStatusFail is {"status": "fail", "reason": ...}, the batch
	// surrogate-key purge's 400 for more keys than it takes, as reported in
	// fastly/fastly-magento2#104. Its Content-Type is not reported; the
	// stand-in sends application/json.
	ShapeStatusFail
)

// Content types of the error shapes.
const (
	contentJSON    = "application/json"
	contentJSONAPI = "application/vnd.api+json"
	contentProblem = "application/problem+json"
)

// errorBody is Fastly's legacy error answer.
type errorBody struct {
	Msg    string `json:"msg"`
	Detail string `json:"detail,omitempty"`
}

// jsonAPIError is one entry of a JSON:API error answer.
type jsonAPIError struct {
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// jsonAPIErrors is a JSON:API error answer.
type jsonAPIErrors struct {
	Errors []jsonAPIError `json:"errors"`
}

// problemBody is an RFC 7807 problem detail.
type problemBody struct {
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	Status int    `json:"status"`
}

// statusFail is the batch purge's answer for too many keys.
type statusFail struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// answer is what the stand-in sends back for one call.
type answer struct {
	status      int
	body        any    // encoded as JSON, unless raw is set
	contentType string // of body; application/json when empty
	raw         string // sent as is, as text/html, when set
	header      http.Header
}

// ok is a 200 answer carrying body.
func ok(body any) answer { return answer{status: http.StatusOK, body: body} }

// fail is an error answer in Fastly's legacy {"msg","detail"} shape.
func fail(status int, msg, detail string) answer {
	return answer{status: status, body: errorBody{Msg: msg, Detail: detail}}
}

// failIn is an error answer in the given shape: msg is the legacy msg, the
// title of the JSON:API and problem shapes, and with detail after it the
// reason of ShapeStatusFail.
func failIn(shape Shape, status int, msg, detail string) answer {
	a := fail(status, msg, detail)
	a.reshape(shape)
	return a
}

// reshape rewrites a legacy error answer's body into shape; other answers
// are left alone.
func (a *answer) reshape(shape Shape) {
	e, isLegacy := a.body.(errorBody)
	if !isLegacy {
		return
	}
	switch shape {
	case ShapeJSONAPI:
		a.body = jsonAPIErrors{Errors: []jsonAPIError{{Title: e.Msg, Detail: e.Detail}}}
		a.contentType = contentJSONAPI
	case ShapeProblem:
		a.body = problemBody{Title: e.Msg, Detail: e.Detail, Status: a.status}
		a.contentType = contentProblem
	case ShapeStatusFail:
		reason := e.Msg
		if e.Detail != "" {
			reason += ": " + e.Detail
		}
		a.body = statusFail{Status: "fail", Reason: reason}
		a.contentType = contentJSON
	}
}

// set adds a header to the answer.
func (a *answer) set(key, value string) {
	if a.header == nil {
		a.header = make(http.Header)
	}
	a.header.Set(key, value)
}

// rateHeaders adds Fastly's rate-limit headers: calls remaining and the
// Unix second at which the window resets.
func (a *answer) rateHeaders(remaining int, reset time.Time) {
	a.set(HeaderRateLimitRemaining, strconv.Itoa(remaining))
	a.set(HeaderRateLimitReset, strconv.FormatInt(ceilUnix(reset), 10))
}

// retryAfter adds Retry-After in whole seconds, rounded up.
func (a *answer) retryAfter(d time.Duration) {
	a.set("Retry-After", standin.RetryAfter(d))
}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	secs := t.Unix()
	if t.Nanosecond() > 0 {
		secs++
	}
	return secs
}

// write sends the answer.
func (a answer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	if a.raw != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.raw))
		return
	}
	data, err := json.Marshal(a.body)
	if err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	ct := a.contentType
	if ct == "" {
		ct = contentJSON
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(a.status)
	_, _ = w.Write(data)
}
