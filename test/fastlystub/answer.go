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
)

// Rate-limit headers Fastly sends on the answers of non-read calls.
const (
	// HeaderRateLimitRemaining is how many calls are left in the window.
	HeaderRateLimitRemaining = "Fastly-RateLimit-Remaining"
	// HeaderRateLimitReset is the Unix second at which the window resets.
	HeaderRateLimitReset = "Fastly-RateLimit-Reset"
)

// errorBody is Fastly's legacy error answer.
type errorBody struct {
	Msg    string `json:"msg"`
	Detail string `json:"detail,omitempty"`
}

// answer is what the stand-in sends back for one call.
type answer struct {
	status int
	body   any    // encoded as JSON, unless raw is set
	raw    string // sent as is, as text/html, when set
	header http.Header
}

// ok is a 200 answer carrying body.
func ok(body any) answer { return answer{status: http.StatusOK, body: body} }

// fail is an error answer in Fastly's {"msg","detail"} shape.
func fail(status int, msg, detail string) answer {
	return answer{status: status, body: errorBody{Msg: msg, Detail: detail}}
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(data)
}
