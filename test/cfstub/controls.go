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
	return a, true
}

// Waiting is how many calls are held by Hang or latency right now, so that a
// test can wait for a call to be in flight before acting.
func (s *Server) Waiting() int { return s.core.Waiting() }
