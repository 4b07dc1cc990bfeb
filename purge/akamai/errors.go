package akamai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// PermissionFastPurge is the grant a Fast Purge call needs, as Akamai's
// Identity and Access Management names it: the API client's "CCU APIs"
// service with READ-WRITE access
// (https://techdocs.akamai.com/purge-cache/reference/api-get-started).
const PermissionFastPurge = "CCU APIs (Fast Purge), READ-WRITE"

// DefaultRateLimitWait is the wait of a 429 without Retry-After: Akamai
// documents none, and says to wait five seconds
// (https://techdocs.akamai.com/purge-cache/reference/429).
const DefaultRateLimitWait = 5 * time.Second

// problem is Fast Purge's error body, an RFC 7807 problem detail
// (application/problem+json or application/api-problem+json): purge
// errors carry httpStatus, title, detail, supportId and describedBy; the
// EdgeGrid gateway's 401 and 403 carry type, title, status, detail and
// instance. Fields of an unexpected type are skipped, not fatal.
type problem struct {
	Type       text `json:"type"`
	Title      text `json:"title"`
	Detail     text `json:"detail"`
	Status     text `json:"status"`
	HTTPStatus text `json:"httpStatus"`
	SupportID  text `json:"supportId"`
}

// text is a JSON value read as text: strings as they are, numbers as
// written, anything else as "".
type text string

// UnmarshalJSON reads any JSON value without failing on its type.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || b[0] == '{' || b[0] == '[' || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(strings.TrimSpace(s))
	default:
		*t = text(b)
	}
	return nil
}

// answerError turns a non-2xx answer into a *purge.Error: 408, 429 and
// 5xx are retryable, other 4xx permanent. A 401 says which credential to
// check, a 403 names PermissionFastPurge. A 429's RetryAfter is its
// Retry-After when sent, else DefaultRateLimitWait.
func (p *Purger) answerError(op string, res *http.Response, body []byte) *purge.Error {
	pe := &purge.Error{
		Op:         op,
		StatusCode: res.StatusCode,
		Retryable:  purge.RetryableStatus(res.StatusCode),
		Message:    p.redact(message(body)),
		RetryAfter: purge.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now()),
	}
	switch res.StatusCode {
	case http.StatusTooManyRequests:
		if pe.RetryAfter == 0 {
			pe.RetryAfter = DefaultRateLimitWait
		}
	case http.StatusUnauthorized:
		pe.Message += "; " + authFix(pe.Message)
	case http.StatusForbidden:
		pe.Permission = PermissionFastPurge
		pe.Message += "; give the API client the " + PermissionFastPurge + " grant in Akamai Control Center (Identity and Access Management → API clients), for the content being purged"
	case http.StatusRequestEntityTooLarge:
		pe.Message += "; the body exceeds Fast Purge's 50,000 bytes"
	}
	return pe
}

// authFix is what to do about a 401, from the gateway's detail.
func authFix(detail string) string {
	d := strings.ToLower(detail)
	switch {
	case strings.Contains(d, "timestamp"):
		return "the request's timestamp was refused: set this machine's clock right (NTP)"
	case strings.Contains(d, "client token"):
		return "check akamai.client_token (AKAMAI_CLIENT_TOKEN, or client_token in .edgerc)"
	case strings.Contains(d, "access token"):
		return "check akamai.access_token (AKAMAI_ACCESS_TOKEN, or access_token in .edgerc)"
	case strings.Contains(d, "signature"):
		return "check akamai.client_secret (AKAMAI_CLIENT_SECRET, or client_secret in .edgerc)"
	case strings.Contains(d, "host"):
		return "check akamai.host (AKAMAI_HOST, or host in .edgerc): it must be the API client's own hostname"
	}
	return "check the EdgeGrid credentials (akamai.host, client_token, client_secret, access_token, or the .edgerc section)"
}

// message is the explanation in an error answer's body, or the start of
// the body when it is not a problem detail.
func message(body []byte) string {
	var pr problem
	if json.Unmarshal(body, &pr) == nil {
		var parts []string
		for _, t := range []text{pr.Title, pr.Detail} {
			if t != "" {
				parts = append(parts, string(t))
			}
		}
		if len(parts) > 0 {
			msg := strings.Join(parts, ": ")
			if pr.SupportID != "" {
				msg += " (supportId " + string(pr.SupportID) + ")"
			}
			return purge.Clip(msg)
		}
	}
	t := strings.Join(strings.Fields(string(body)), " ")
	if t == "" {
		return ""
	}
	return "unexpected answer: " + purge.Clip(t)
}

// redact removes every credential from a message, should any text carry
// one.
func (p *Purger) redact(msg string) string {
	for _, s := range p.secrets() {
		msg = purge.Redact(msg, s)
	}
	return msg
}

// secrets are the EdgeGrid credentials no message may carry.
func (p *Purger) secrets() []string {
	return []string{p.signer.ClientSecret, p.signer.AccessToken, p.signer.ClientToken}
}
