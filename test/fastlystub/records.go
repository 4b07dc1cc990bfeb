package fastlystub

import (
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
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

// Calls returns every call received so far, in order of arrival.
func (s *Server) Calls() []Call { return s.core.Calls() }

// PurgeCalls returns the purge calls received so far, accepted or not, in
// order of arrival.
func (s *Server) PurgeCalls() []Call {
	return s.core.CallsWhere(func(c Call) bool { return c.Kind != "" })
}

// Purged returns a service's accepted purge items (URLs as host and path,
// surrogate keys, AllItem) with when each was last purged, soft or not.
func (s *Server) Purged(service string) map[string]time.Time { return s.core.Purged(service) }

// Throttled is how many calls were answered 429, injected failures
// included.
func (s *Server) Throttled() int { return s.core.Throttled() }

// Reset forgets every call and purge, refills the rate bucket and the
// hourly API budgets, and undoes
// SetFailure, SetLatency and Hang.
func (s *Server) Reset() { s.core.Reset(s.refill) }

// refill fills the rate bucket; the caller holds the core's lock or is New.
func (s *Server) refill() {
	s.hours = map[string]*apiWindow{}
	s.bucket = standin.NewBucket(s.opts.PurgeRate, s.opts.PurgeBurst, 1)
}
