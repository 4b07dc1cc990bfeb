package cfstub

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"
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

// record adds a call to the log.
func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Status == http.StatusTooManyRequests {
		s.throttled++
	}
	s.calls = append(s.calls, c)
}

// markPurged notes that zone's items of kind were purged at t.
func (s *Server) markPurged(zone, kind string, items []string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKind := s.purged[zone]
	if byKind == nil {
		byKind = make(map[string]map[string]time.Time)
		s.purged[zone] = byKind
	}
	byItem := byKind[kind]
	if byItem == nil {
		byItem = make(map[string]time.Time)
		byKind[kind] = byItem
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

// PurgeCalls returns the purge_cache calls received so far, accepted or
// not, in order of arrival.
func (s *Server) PurgeCalls() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == http.MethodPost && c.Zone != "" {
			out = append(out, c)
		}
	}
	return out
}

// Purged returns, for one zone and kind, each accepted item with when it
// was last purged.
func (s *Server) Purged(zone, kind string) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.purged[zone][kind])
}

// URLsPurged returns the zone's purged URLs, sorted.
func (s *Server) URLsPurged(zone string) []string {
	return slices.Sorted(maps.Keys(s.Purged(zone, KindFiles)))
}

// Throttled is how many calls were answered 429.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Reset forgets every call and purge, refills the rate buckets, and undoes
// SetFailure, SetLatency and Hang.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.urlBucket = newBucket(s.opts.URLRate, s.opts.URLBurst, s.maxItems)
	s.flexBucket = newBucket(s.opts.FlexRate, s.opts.FlexBurst, 1)
	s.latency = s.opts.Latency
	if s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
	s.failure = nil
	s.calls = nil
	s.purged = make(map[string]map[string]map[string]time.Time)
	s.throttled = 0
}
