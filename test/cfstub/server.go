// Package cfstub is an in-process stand-in for Cloudflare's v4 API, speaking
// its wire format: the purge_cache endpoint with its item limit and rate
// limits, token verification and zone details. Tests and benchmarks point
// the real cloudflare-go SDK at it, inject failures and latency at run time,
// and inspect which calls arrived and what was purged.
package cfstub

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxItemsPerCall is the item limit of one purge call when
// Options.MaxItemsPerCall is 0.
const DefaultMaxItemsPerCall = 100

// Options configure a Server.
type Options struct {
	// Tokens are the accepted API tokens (sent as "Authorization: Bearer T").
	Tokens []string
	// Zones are the known zone ids. When empty, every zone id is known.
	Zones []string
	// ZoneNames optionally gives a zone id its name in GET /zones/{id};
	// otherwise the name is "<id>.example.com".
	ZoneNames map[string]string
	// MaxItemsPerCall is the most URLs, tags, hosts or prefixes one purge
	// call may carry; default DefaultMaxItemsPerCall.
	MaxItemsPerCall int
	// URLRate is how many single-file URLs the account may purge per second,
	// across all zones; 0 means unlimited.
	URLRate float64
	// URLBurst is the URL bucket's size; 0 means max(URLRate, MaxItemsPerCall).
	URLBurst int
	// FlexRate is how many tag, host, prefix and purge-everything calls the
	// account may make per second; 0 means unlimited.
	FlexRate float64
	// FlexBurst is the flex bucket's size; 0 means max(FlexRate, 1).
	FlexBurst int
	// Latency is added before every answer.
	Latency time.Duration
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	opts     Options
	tokens   map[string]bool
	zones    map[string]bool
	maxItems int
	handler  http.Handler
	closed   chan struct{}

	mu         sync.Mutex
	httpServer *http.Server
	closeOnce  sync.Once
	urlBucket  *bucket
	flexBucket *bucket
	latency    time.Duration
	hang       chan struct{} // non-nil while hanging; closed to release
	waiting    int           // calls held by hang or latency right now
	failure    *Failure
	calls      []Call
	purged     map[string]map[string]map[string]time.Time // zone → kind → item → last purge
	throttled  int
}

// New returns a stand-in configured by opts; call Start to serve it, or use
// Handler with an httptest.Server.
func New(opts Options) *Server {
	if opts.MaxItemsPerCall <= 0 {
		opts.MaxItemsPerCall = DefaultMaxItemsPerCall
	}
	s := &Server{
		opts:     opts,
		tokens:   setOf(opts.Tokens),
		zones:    setOf(opts.Zones),
		maxItems: opts.MaxItemsPerCall,
		closed:   make(chan struct{}),
	}
	s.resetLocked()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /client/v4/zones/{zone_id}/purge_cache", s.handlePurge)
	mux.HandleFunc("GET /client/v4/zones/{zone_id}", s.handleZone)
	mux.HandleFunc("GET /client/v4/user/tokens/verify", s.handleVerify)
	mux.HandleFunc("/", s.handleNoRoute)
	s.handler = mux
	return s
}

func setOf(items []string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, it := range items {
		set[it] = true
	}
	return set
}

// Handler serves the API under /client/v4/.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves the API on a free loopback port and returns its base URL,
// e.g. "http://127.0.0.1:41234/client/v4/".
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cfstub: listen: %w", err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.httpServer = srv
	s.mu.Unlock()
	// Serve only returns once Close was called.
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/client/v4/", nil
}

// Close stops serving and releases calls that are hanging or waiting out
// their latency.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	srv := s.httpServer
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// handleNoRoute answers paths the stand-in does not serve the way
// Cloudflare answers unknown routes.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	a := fail(http.StatusBadRequest, apiError{Code: CodeNoRoute, Message: "No route for that URI"})
	a.write(w)
	s.record(Call{At: at, Method: r.Method, Path: r.URL.Path, Status: a.status, Codes: a.codes()})
}

// await applies the injected latency and hang. It reports false when the
// client gave up or the server closed, in which case nothing is answered.
func (s *Server) await(ctx context.Context) bool {
	s.mu.Lock()
	latency, hang := s.latency, s.hang
	s.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()

	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return false
		case <-s.closed:
			return false
		}
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		case <-s.closed:
			return false
		}
	}
	return true
}
