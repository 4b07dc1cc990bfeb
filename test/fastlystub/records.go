package fastlystub

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"
)

// Purge kinds, as in Call.Kind.
const (
	// KindURL is a URL purge; its item is the purged host and path (with
	// the query, if any), without scheme.
	KindURL = "url"
	// KindKeys is a surrogate-key purge, batch or single.
	KindKeys = "keys"
	// KindAll is a purge_all.
	KindAll = "all"
)

// AllItem is the one item recorded for a purge_all.
const AllItem = "*"

// Call is one API call the stand-in received, whatever its outcome.
type Call struct {
	// At is when the call arrived.
	At time.Time
	// Method and Path are the HTTP request's (Path as sent, escaped).
	Method string
	Path   string
	// Service is the service ID in the path, or for URL purges the service
	// Options.Domains gives the host; "" if none.
	Service string
	// Kind is KindURL, KindKeys or KindAll for a purge; "" otherwise.
	Kind string
	// Items are the URL, the keys or AllItem, in the order sent; keys are
	// only known for a well-formed body.
	Items []string
	// Soft says the call carried Fastly-Soft-Purge.
	Soft bool
	// Status is the HTTP status answered; 0 when no answer was sent
	// because the client gave up first.
	Status int
}

// record adds a call to the log.
func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Status == http.StatusTooManyRequests {
		s.throttled++
	}
	s.calls = append(s.calls, c)
}

// markPurged notes that a service's items were purged at t.
func (s *Server) markPurged(service string, items []string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byItem := s.purged[service]
	if byItem == nil {
		byItem = make(map[string]time.Time)
		s.purged[service] = byItem
	}
	for _, it := range items {
		byItem[it] = t
	}
}

// Calls returns every call received so far, in order of arrival.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	calls := slices.Clone(s.calls)
	s.mu.Unlock()
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].At.Before(calls[j].At) })
	return calls
}

// PurgeCalls returns the purge calls received so far, accepted or not, in
// order of arrival.
func (s *Server) PurgeCalls() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Kind != "" {
			out = append(out, c)
		}
	}
	return out
}

// Purged returns a service's accepted purge items (URLs as host and path,
// surrogate keys, AllItem) with when each was last purged, soft or not.
func (s *Server) Purged(service string) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.purged[service])
}

// Throttled is how many calls were answered 429, injected failures
// included.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Reset forgets every call and purge, refills the rate bucket, and undoes
// SetFailure, SetLatency and Hang.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.bucket = newBucket(s.opts.PurgeRate, s.opts.PurgeBurst)
	s.latency = s.opts.Latency
	if s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
	s.failure = nil
	s.calls = nil
	s.purged = make(map[string]map[string]time.Time)
	s.throttled = 0
	s.peak = s.inFlight
}
