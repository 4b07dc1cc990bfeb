package akamaistub

import "time"

// Object kinds and actions, as the paths name them.
const (
	KindURL    = "url"
	KindTag    = "tag"
	KindCPCode = "cpcode"

	ActionInvalidate = "invalidate"
	ActionDelete     = "delete"
)

// Call is one API call the stand-in received, whatever its outcome.
type Call struct {
	// At is when the call arrived.
	At time.Time
	// Path is the request's path as sent.
	Path string
	// Action, Kind and Network are the path's, for a purge; "" otherwise.
	Action, Kind, Network string
	// Items are the body's objects, when it could be read.
	Items []string
	// ClientToken is the Authorization header's client token, if any.
	ClientToken string
	// Status is the HTTP status answered; 0 when the client gave up first.
	Status int
	// Detail is the error answer's detail, if any.
	Detail string
}

// Soft reports whether the call was an invalidation.
func (c Call) Soft() bool { return c.Action == ActionInvalidate }

// Calls returns every call received so far, in order of arrival.
func (s *Server) Calls() []Call { return s.core.Calls() }

// PurgeCalls returns the purge calls received so far, accepted or not.
func (s *Server) PurgeCalls() []Call {
	return s.core.CallsWhere(func(c Call) bool { return c.Kind != "" })
}

// Purged returns a network's accepted objects (URLs as sent, tags, CP
// codes) with when each was last purged.
func (s *Server) Purged(network string) map[string]time.Time { return s.core.Purged(network) }

// Throttled is how many calls were answered 429.
func (s *Server) Throttled() int { return s.core.Throttled() }

// Reset forgets every call and purge, refills the buckets and undoes
// SetFailure, SetLatency and Hang.
func (s *Server) Reset() { s.core.Reset(s.refill) }

// Failure is an answer the stand-in gives instead of its work.
type Failure struct {
	// Status is the HTTP status; Title and Detail fill the problem body.
	Status        int
	Title, Detail string
	// Count is how many calls fail; 0 means until ClearFailure or Reset.
	Count int
	// RetryAfter, when set, is sent as Retry-After.
	RetryAfter time.Duration
}

// SetFailure makes the following calls fail with f, before authentication
// is looked at, as an outage would.
func (s *Server) SetFailure(f Failure) { s.core.SetFailure(f, f.Count) }

// ClearFailure removes the injected failure.
func (s *Server) ClearFailure() { s.core.ClearFailure() }

// Hang(true) holds calls unanswered until the client gives up.
func (s *Server) Hang(on bool) { s.core.Hang(on) }

// Waiting is how many calls are held by Hang or latency right now.
func (s *Server) Waiting() int { return s.core.Waiting() }

// PeakInFlight is the most calls served at once.
func (s *Server) PeakInFlight() int { return s.core.PeakInFlight() }

// SetLatency changes the delay added before every answer.
func (s *Server) SetLatency(d time.Duration) { s.core.SetLatency(d) }
