package cfstub

import (
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// Purge kinds, as in Call.Kind and Purged.
const (
	KindFiles      = "files"
	KindTags       = "tags"
	KindHosts      = "hosts"
	KindPrefixes   = "prefixes"
	KindEverything = "everything"
)

// EverythingItem is the one item recorded for a purge-everything call.
const EverythingItem = "*"

// Call is one API call the stand-in received, whatever its outcome.
type Call struct {
	// At is when the call arrived.
	At time.Time
	// Method and Path are the HTTP request's.
	Method string
	Path   string
	// Zone is the zone id in the path, if any.
	Zone string
	// Account is the account id in the path of an account endpoint, if any.
	Account string
	// Kind is the purge kind of a well-formed purge body; "" otherwise.
	Kind string
	// Items are the URLs, tags, hosts or prefixes of a purge ("*" for
	// everything), in the order sent.
	Items []string
	// Status is the HTTP status answered; 0 when no answer was sent because
	// the client gave up first.
	Status int
	// Codes are the Cloudflare error codes answered.
	Codes []int
}

// Calls returns every call received so far, in order of arrival.
func (s *Server) Calls() []Call { return s.core.Calls() }

// PurgeCalls returns the purge_cache calls received so far, accepted or
// not, in order of arrival.
func (s *Server) PurgeCalls() []Call {
	return s.core.CallsWhere(func(c Call) bool { return c.Method == http.MethodPost && c.Zone != "" })
}

// Purged returns, for one zone and kind, each accepted item with when it
// was last purged.
func (s *Server) Purged(zone, kind string) map[string]time.Time {
	return s.core.Purged(purgeKey{zone, kind})
}

// URLsPurged returns the zone's purged URLs, sorted.
func (s *Server) URLsPurged(zone string) []string {
	return slices.Sorted(maps.Keys(s.Purged(zone, KindFiles)))
}

// Throttled is how many calls were answered 429.
func (s *Server) Throttled() int { return s.core.Throttled() }

// Reset forgets every call and purge, refills the rate buckets, and undoes
// SetFailure, SetLatency and Hang.
func (s *Server) Reset() { s.core.Reset(s.refill) }

// refill fills the rate buckets; the caller holds the core's lock or is New.
func (s *Server) refill() {
	s.urlBucket = standin.NewBucket(s.opts.URLRate, s.opts.URLBurst, s.maxItems)
	s.flexBucket = standin.NewBucket(s.opts.FlexRate, s.opts.FlexBurst, 1)
	s.planBuckets = map[string]*buckets{}
	for _, p := range s.opts.Plans {
		b := &buckets{url: standin.NewBucket(p.URLRate, p.URLBurst, s.maxItems), flex: standin.NewBucket(p.FlexRate, p.FlexBurst, 1)}
		for _, z := range p.Zones {
			s.planBuckets[z] = b
		}
	}
}
