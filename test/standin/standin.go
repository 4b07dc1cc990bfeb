// Package standin is the scaffolding the CDN stand-ins (test/cfstub and
// test/fastlystub) share, whatever their CDN's wire format: serving on a
// free loopback port, injected latency, hangs and failures, the log of
// calls received and items purged, and a token bucket. A stand-in keeps
// its endpoints, authentication, answer shapes and limits to itself and
// builds on a Core for the rest.
package standin

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Config configures a Core.
type Config[C any] struct {
	// Name prefixes the Core's errors, e.g. "cfstub".
	Name string
	// Latency is added before every answer until SetLatency changes it,
	// and again after Reset.
	Latency time.Duration
	// Arrived is when a call record says its call arrived; Calls are in
	// this order.
	Arrived func(C) time.Time
	// Status is the HTTP status a call record says was answered; Throttled
	// counts the 429s.
	Status func(C) int
}

// Core is a stand-in's shared state: its HTTP server, the injected latency,
// hang and failure F, the calls C received and the items purged under each
// key K. All its methods are safe for concurrent use. Its lock also guards
// whatever state of its own a stand-in touches between Lock and Unlock, or
// in a Reset hook, so that Reset is one atomic step.
type Core[C, F any, K comparable] struct {
	cfg    Config[C]
	closed chan struct{}

	mu         sync.Mutex
	httpServer *http.Server
	closeOnce  sync.Once
	latency    time.Duration
	hang       chan struct{} // non-nil while hanging; closed to release
	waiting    int           // calls held by hang or latency right now
	inFlight   int           // calls being served right now (Track)
	peak       int           // most calls served at once since Reset (Track)
	failure    *F
	failLeft   int // calls the failure still fails; 0 means until cleared
	calls      []C
	purged     map[K]map[string]time.Time // key → item → last purge
	throttled  int
}

// New returns a Core configured by cfg, not yet serving.
func New[C, F any, K comparable](cfg Config[C]) *Core[C, F, K] {
	return &Core[C, F, K]{
		cfg:     cfg,
		closed:  make(chan struct{}),
		latency: cfg.Latency,
		purged:  make(map[K]map[string]time.Time),
	}
}

// Lock takes the Core's lock, for a stand-in's own state.
func (c *Core[C, F, K]) Lock() { c.mu.Lock() }

// Unlock releases the lock taken by Lock.
func (c *Core[C, F, K]) Unlock() { c.mu.Unlock() }

// Start serves h on a free loopback port until Close and returns the
// server's root URL, e.g. "http://127.0.0.1:41234".
func (c *Core[C, F, K]) Start(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("%s: listen: %w", c.cfg.Name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	c.mu.Lock()
	c.httpServer = srv
	c.mu.Unlock()
	// Serve only returns once Close was called.
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops serving and releases calls that are hanging or waiting out
// their latency.
func (c *Core[C, F, K]) Close() {
	c.closeOnce.Do(func() { close(c.closed) })
	c.mu.Lock()
	srv := c.httpServer
	c.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Set is a set of names, such as tokens or zone ids.
type Set map[string]bool

// SetOf returns the set of items.
func SetOf(items []string) Set {
	set := make(Set, len(items))
	for _, it := range items {
		set[it] = true
	}
	return set
}

// Known reports whether name is in the set, or the set is empty: a stand-in
// configured with no zones or services knows them all.
func (s Set) Known(name string) bool { return len(s) == 0 || s[name] }
