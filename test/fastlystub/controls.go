package fastlystub

import (
	"net/http"
	"time"
)

// Failure is an answer the stand-in gives instead of doing its work, to
// play an outage or a refusal.
type Failure struct {
	// Status is the HTTP status.
	Status int
	// Msg and Detail fill the error body: Fastly's {"msg","detail"} unless
	// Shape says otherwise; Msg defaults to the status text.
	Msg    string
	Detail string
	// Shape is the error body's form; the zero value is ShapeLegacy.
	Shape Shape
	// Body, when set, is sent instead as a text/html body, as a proxy in
	// front of the API would.
	Body string
	// Count is how many calls fail before the failure clears itself; 0
	// means until ClearFailure or Reset.
	Count int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
	// RateLimitReset, when set, sends Fastly-RateLimit-Remaining: 0 and
	// Fastly-RateLimit-Reset that far in the future.
	RateLimitReset time.Duration
}

// SetFailure makes every following API call (purges, token, service) fail
// with f, before authentication is looked at, as an outage would.
func (s *Server) SetFailure(f Failure) { s.core.SetFailure(f, f.Count) }

// ClearFailure removes the injected failure.
func (s *Server) ClearFailure() { s.core.ClearFailure() }

// SetLatency changes the delay added before every answer.
func (s *Server) SetLatency(d time.Duration) { s.core.SetLatency(d) }

// Hang(true) makes calls wait without answering until the client gives up;
// Hang(false) lets the waiting calls and all later ones through.
func (s *Server) Hang(on bool) { s.core.Hang(on) }

// injected returns the injected failure's answer for one call, spending
// one of its count, or false when no failure is set.
func (s *Server) injected(now time.Time) (answer, bool) {
	f, failed := s.core.Failure()
	if !failed {
		return answer{}, false
	}
	msg := f.Msg
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	a := failIn(f.Shape, f.Status, msg, f.Detail)
	a.raw = f.Body
	if f.RetryAfter > 0 {
		a.retryAfter(f.RetryAfter)
	}
	if f.RateLimitReset > 0 {
		a.rateHeaders(0, now.Add(f.RateLimitReset))
	}
	return a, true
}

// Waiting is how many calls are held by Hang or latency right now, so that
// a test can wait for a call to be in flight before acting.
func (s *Server) Waiting() int { return s.core.Waiting() }

// PeakInFlight is the most calls the stand-in served at once since it
// started or was Reset.
func (s *Server) PeakInFlight() int { return s.core.PeakInFlight() }

// SetAPIWindow sets what is left of token's hourly API budget and when it
// resets, as if another tool of the same user had spent it: remaining 0
// refuses the next purge_all with 429 until reset.
func (s *Server) SetAPIWindow(token string, remaining int, reset time.Time) {
	s.core.Lock()
	defer s.core.Unlock()
	s.hours[token] = &apiWindow{remaining: remaining, reset: reset}
}
