package cfstub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// Cloudflare's own error codes that the stand-in answers with. The ones
// marked "seen" are those real Cloudflare answers are known to carry; the
// others are plausible stand-ins where the real code is not documented.
const (
	// CodeMissingAuthHeader: 'Missing "Authorization" header' (seen, token verify).
	CodeMissingAuthHeader = 1001
	// CodeInvalidAPIToken: "Invalid API Token" (token verify with an unknown token).
	CodeInvalidAPIToken = 1000
	// CodeBadPurgeBody: the body is not exactly one kind of purge (seen).
	CodeBadPurgeBody = 1012
	// CodePurgeErrors: "One or more cache purge errors", the wrapper Cloudflare
	// adds after a specific purge validation error (seen).
	CodePurgeErrors = 1016
	// CodeTooManyItems: more items in one call than the limit. UNCONFIRMED:
	// 1018 is a stand-in, invented here. Cloudflare documents the limits
	// (https://developers.cloudflare.com/cache/how-to/purge-cache/) but not
	// the code of the refusal, and no public report found quotes it (one,
	// cloudflare-docs#21338, quotes only its words, "cannot provide more
	// than 100 items"). Clients must not depend on it: edgepurge reads any
	// 400 as permanent whatever its codes, and the stand-in's code can be
	// changed (Options.TooManyItemsCode) to prove it.
	CodeTooManyItems = 1018
	// CodeInvalidHeaders: "Invalid request headers" (seen), with
	// CodeBadAuthFormat in its error_chain.
	CodeInvalidHeaders = 6003
	// CodeBadAuthFormat: "Invalid format for Authorization header" (seen).
	CodeBadAuthFormat = 6111
	// CodeNoRoute: "No route for that URI" (seen, follows CodeInvalidZone).
	CodeNoRoute = 7000
	// CodeInvalidZone: "Could not route to /zones/..., perhaps your object
	// identifier is invalid?" (seen).
	CodeInvalidZone = 7003
	// CodeMissingAuth: "Missing X-Auth-Key, X-Auth-Email or Authorization headers".
	CodeMissingAuth = 9106
	// CodeInvalidAccessToken: "Invalid access token" for an unknown token.
	CodeInvalidAccessToken = 9109
	// CodeUnauthorized: "Unauthorized to access requested resource", 403
	// for a valid token that lacks the endpoint's permission (seen in
	// public reports; the same number as CodeInvalidAccessToken, told
	// apart by the message).
	CodeUnauthorized = 9109
	// CodeAuthError: "Authentication error", 403 from purge_cache for a
	// token that does not allow the purge (seen in public reports).
	CodeAuthError = 10000
	// CodeRateLimited: "Please wait and consider throttling your request speed" (seen, HTTP 429).
	CodeRateLimited = 971
	// CodeTokenValid is the message code of a successful token verify (seen).
	CodeTokenValid = 10000
)

// MsgTooManyItems is the message of the answer to a purge over the item
// limit, a format taking the limit. Its wording beyond "cannot provide more
// than N items" (cloudflare-docs#21338) is the stand-in's.
const MsgTooManyItems = "Too many items in request, cannot provide more than %d items per request"

// apiError is one entry of an answer's "errors" or "messages".
type apiError struct {
	Code       int        `json:"code"`
	Message    string     `json:"message"`
	ErrorChain []apiError `json:"error_chain,omitempty"`
}

// envelope is the shape of every Cloudflare v4 API answer.
type envelope struct {
	Success  bool       `json:"success"`
	Errors   []apiError `json:"errors"`
	Messages []apiError `json:"messages"`
	Result   any        `json:"result"`
}

// answer is what the stand-in sends back for one call.
type answer struct {
	status     int
	body       envelope
	retryAfter time.Duration
	page       string            // sent as text/html instead of body, when set
	header     map[string]string // more headers
}

// ok is a successful answer carrying result.
func ok(result any, messages ...apiError) answer {
	if messages == nil {
		messages = []apiError{}
	}
	return answer{status: http.StatusOK, body: envelope{
		Success: true, Errors: []apiError{}, Messages: messages, Result: result,
	}}
}

// fail is a failed answer with the given errors.
func fail(status int, errs ...apiError) answer {
	return answer{status: status, body: envelope{
		Success: false, Errors: errs, Messages: []apiError{}, Result: nil,
	}}
}

// codes lists the error codes of an answer, for the call record.
func (a answer) codes() []int {
	var cs []int
	for _, e := range a.body.Errors {
		cs = append(cs, e.Code)
	}
	return cs
}

// write sends the answer, with Retry-After in whole seconds (rounded up, as
// Cloudflare never asks for less than a second) when set.
func (a answer) write(w http.ResponseWriter) {
	data, err := json.Marshal(a.body)
	if err != nil {
		http.Error(w, fmt.Sprintf("encode answer: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if a.page != "" {
		data = []byte(a.page)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", standin.RetryAfter(a.retryAfter))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(data)
}

// invalidZone is Cloudflare's answer for a zone id it does not know.
func invalidZone(path string) answer {
	return fail(http.StatusBadRequest,
		apiError{Code: CodeInvalidZone, Message: fmt.Sprintf("Could not route to %s, perhaps your object identifier is invalid?", path)},
		apiError{Code: CodeNoRoute, Message: "No route for that URI"},
	)
}
