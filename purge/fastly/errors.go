package fastly

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// defaultRateLimitWait is the wait of a 429 that says nothing of when to
// come back.
const defaultRateLimitWait = time.Second

// apiError is the body of Fastly's error answers, in any of the forms
// Fastly uses (docs/cdns.md has their sources): the legacy {"msg",
// "detail"}, JSON:API {"errors":[{"title","detail"}]}, an RFC 7807 problem
// detail {"title","detail","status"} (application/problem+json), and the
// batch purge's {"status":"fail","reason"}. The form is read from the body,
// never from Content-Type, and a field of an unexpected JSON type is read
// as text or skipped rather than failing the whole answer.
type apiError struct {
	Msg    text            `json:"msg"`
	Title  text            `json:"title"`
	Detail text            `json:"detail"`
	Status text            `json:"status"`
	Reason text            `json:"reason"`
	Errors json.RawMessage `json:"errors"`
}

// apiErrorItem is one entry of a JSON:API answer's errors (or of a legacy
// answer's, which may carry code and reason instead of a title).
type apiErrorItem struct {
	Title  text `json:"title"`
	Detail text `json:"detail"`
	Reason text `json:"reason"`
	Code   text `json:"code"`
}

// text is a JSON value read as text: strings as they are, numbers and
// booleans as written, null, objects and arrays as "". Fastly's status is a
// number in a problem detail and a string elsewhere.
type text string

// UnmarshalJSON reads any JSON value without failing on its type.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(strings.TrimSpace(s))
	case b[0] == '{' || b[0] == '[' || string(b) == "null":
		*t = ""
	default:
		*t = text(b)
	}
	return nil
}

// answerError turns a non-2xx answer into a *purge.Error: 401, 403 and
// other 4xx are permanent, 408, 429 and 5xx retryable, whatever the body's
// form says. RetryAfter comes from Retry-After, or for a 429 from
// Fastly-RateLimit-Reset (a Unix second) minus now, or else is one second
// for a 429.
func (p *Purger) answerError(op string, res *http.Response, body []byte) *purge.Error {
	pe := &purge.Error{
		Op:         op,
		StatusCode: res.StatusCode,
		Retryable:  purge.RetryableStatus(res.StatusCode),
		Message:    p.redact(message(body)),
		RetryAfter: purge.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now()),
	}
	if res.StatusCode == http.StatusTooManyRequests && pe.RetryAfter == 0 {
		pe.RetryAfter = untilReset(res.Header.Get("Fastly-RateLimit-Reset"), time.Now())
		if pe.RetryAfter == 0 {
			pe.RetryAfter = defaultRateLimitWait
		}
	}
	return pe
}

// message is the explanation in an error answer's body, from whichever of
// Fastly's error forms it is in, or else the start of the body.
func message(body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) == nil {
		var parts []string
		add := func(ts ...text) {
			for _, t := range ts {
				if t != "" {
					parts = append(parts, string(t))
				}
			}
		}
		head := e.Msg
		if head == "" {
			head = e.Title
		}
		add(head, e.Detail, e.Reason)
		var items []apiErrorItem
		if json.Unmarshal(e.Errors, &items) == nil {
			for _, it := range items {
				explain := it.Detail
				if explain == "" {
					explain = it.Reason
				}
				name := it.Title
				if name == "" {
					name = it.Code
				}
				switch {
				case name != "" && explain != "":
					add(name + ": " + explain)
				default:
					add(name + explain)
				}
			}
		}
		if len(parts) == 0 && e.Status == "fail" {
			// {"status":"fail"} without a reason.
			add("status fail")
		}
		if len(parts) > 0 {
			return purge.Clip(strings.Join(parts, ": "))
		}
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if text == "" {
		return ""
	}
	return "unexpected answer: " + purge.Clip(text)
}

// redact removes the API token from a message, should any text carry it.
func (p *Purger) redact(msg string) string { return purge.Redact(msg, p.token) }

// untilReset reads Fastly-RateLimit-Reset, the Unix second at which the
// rate-limit window resets, as a wait from now; 0 when absent, unreadable
// or past.
func untilReset(v string, now time.Time) time.Duration {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return max(0, time.Unix(secs, 0).Sub(now))
}
