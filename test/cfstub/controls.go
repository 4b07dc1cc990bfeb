package cfstub

import (
	"net/http"
	"time"
)

// Failure is an answer the stand-in gives instead of doing its work, to play
// an outage or a refusal.
type Failure struct {
	// Status is the HTTP status; 200 plays Cloudflare's "success": false
	// answers that arrive with HTTP 200.
	Status int
	// Codes are Cloudflare error codes, one errors[] entry each.
	Codes []int
	// Message is every entry's message; default the status text.
	Message string
	// Count is how many calls fail before the failure clears itself; 0 means
	// until ClearFailure or Reset.
	Count int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Page, when set, is sent instead of the API's JSON, as text/html:
	// an error page of Cloudflare's edge (see EdgeRateLimited).
	Page string
	// Header adds headers to the answer, e.g. Ratelimit and
	// Ratelimit-Policy.
	Header map[string]string
}

// Page1015 is the gist of the page Cloudflare's edge answers when a
// client is rate limited (error 1015): HTML, not the API's JSON. Its
// exact markup is not documented; clients must not depend on more than
// the status, Retry-After and the code in the text.
const Page1015 = `<!DOCTYPE html>
<html><head><title>Access denied | api.cloudflare.com used Cloudflare to restrict access</title></head>
<body><h1>Error 1015</h1><h2>You are being rate limited</h2>
<p>The owner of this website (api.cloudflare.com) has banned you temporarily from accessing this website.</p></body></html>
`

// EdgeRateLimited is the edge's error 1015 answer, count times (0: until
// cleared): 429 with Retry-After: 30 and an HTML page
// (https://developers.cloudflare.com/changelog/post/2026-03-12-retry-after-header-for-1xxx-errors
// gives 1015 its Retry-After of 30 seconds).
func EdgeRateLimited(count int) Failure {
	return Failure{Status: http.StatusTooManyRequests, Page: Page1015, RetryAfter: 30 * time.Second, Count: count}
}

// SetFailure makes every following API call (purge, verify, zone) fail with
// f, before authentication is looked at, as an outage would.
func (s *Server) SetFailure(f Failure) { s.core.SetFailure(f, f.Count) }

// ClearFailure removes the injected failure.
func (s *Server) ClearFailure() { s.core.ClearFailure() }

// SetLatency changes the delay added before every answer.
func (s *Server) SetLatency(d time.Duration) { s.core.SetLatency(d) }

// Hang(true) makes calls wait without answering until the client gives up;
// Hang(false) lets the waiting calls and all later ones through.
func (s *Server) Hang(on bool) { s.core.Hang(on) }

// injected returns the injected failure's answer for one call, spending one
// of its count, or false when no failure is set.
func (s *Server) injected() (answer, bool) {
	f, failed := s.core.Failure()
	if !failed {
		return answer{}, false
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	errs := make([]apiError, 0, len(f.Codes))
	for _, c := range f.Codes {
		errs = append(errs, apiError{Code: c, Message: msg})
	}
	a := fail(f.Status, errs...)
	a.retryAfter = f.RetryAfter
	a.page = f.Page
	a.header = f.Header
	return a, true
}

// Waiting is how many calls are held by Hang or latency right now, so that a
// test can wait for a call to be in flight before acting.
func (s *Server) Waiting() int { return s.core.Waiting() }
