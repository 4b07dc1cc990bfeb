// Package akamaistub is an in-process stand-in for Akamai's Fast Purge API
// v3 (https://techdocs.akamai.com/purge-cache/reference/api), speaking its
// wire format: POST /ccu/v3/{invalidate|delete}/{url|tag|cpcode}/{production|staging}
// with a {"objects": [...]} body, answered 201 {"httpStatus", "detail",
// "estimatedSeconds", "purgeId", "supportId"}. Tests drive it through the
// real client (purge/akamai).
//
// What is modelled, and what is not:
//   - EdgeGrid authentication, as Akamai's API gateway checks it
//     (https://techdocs.akamai.com/developer/docs/authenticate-with-edgegrid):
//     the Authorization header is parsed and its signature recomputed with
//     the client's secret (purge/akamai's signer, itself pinned by Akamai's
//     published vectors). A missing or malformed header, an unknown client
//     token, a wrong access token, a timestamp off by more than
//     Options.MaxSkew, a Host other than Options.Host and a signature that
//     does not match are refused with 401 and the gateway's problem body
//     {"type": ".../pep-authn/deny", "title": "Not authorized", "status":
//     401, "detail": ..., "instance": ...}. The details "Invalid client
//     token", "Invalid timestamp" and "The signature does not match" are
//     Akamai's as users report them; the others are the stand-in's.
//   - Permission: a client without the CCU grant (Client.NoPurge) gets 403
//     with a problem body (the stand-in's wording; Akamai's 403 page says
//     the client's authorizations do not allow the resource).
//   - Limits as documented (https://techdocs.akamai.com/purge-cache/reference/rate-limiting):
//     a body over Options.MaxBody (50,000 bytes) is 413; token buckets of
//     requests and of objects per kind (off unless Options set rates),
//     shared by every client, a call taking one request token and a token
//     per object, all or none; a refused call spends nothing and gets 429
//     with the X-Ratelimit-* headers of Akamai's examples
//     (https://techdocs.akamai.com/purge-cache/reference/rate-limit-response-examples)
//     and no Retry-After, which Akamai does not document, unless
//     Options.RetryAfter asks for one.
//   - A cache tag Akamai does not allow (over 128 characters, or a
//     character outside letters, digits and !#$%'+./^_`|~-; see
//     https://techdocs.akamai.com/property-mgr/reference/ga-cache-tag) is
//     400 "bad cache tag" (the stand-in's words).
//   - A CP-code purge is accepted and recorded; edgepurge sends none.
//   - Purges complete at once; estimatedSeconds is Options.EstimatedSeconds.
package akamaistub

import (
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// Defaults of Options.
const (
	// DefaultMaxBody is Fast Purge's body limit.
	DefaultMaxBody = 50000
	// DefaultMaxSkew is how far a signature's timestamp may be from the
	// stand-in's clock (the stand-in's choice; Akamai does not publish it).
	DefaultMaxSkew = time.Minute
	// DefaultEstimatedSeconds is the estimate of an accepted purge, as in
	// Akamai's examples for Fast Purge (5 s).
	DefaultEstimatedSeconds = 5
)

// Client is an API client the stand-in accepts.
type Client struct {
	ClientToken, ClientSecret, AccessToken string
	// NoPurge makes the client lack the CCU APIs grant: its purges are 403.
	NoPurge bool
}

// Options configure a Server.
type Options struct {
	// Host is the API hostname requests must name (and sign).
	Host string
	// Clients are the accepted API clients.
	Clients []Client
	// MaxBody is the largest body accepted; default DefaultMaxBody.
	MaxBody int
	// MaxSkew is how far a timestamp may be off; default DefaultMaxSkew.
	MaxSkew time.Duration
	// Now, when set, is the stand-in's clock.
	Now func() time.Time
	// EstimatedSeconds is the estimate answered; default
	// DefaultEstimatedSeconds.
	EstimatedSeconds int
	// RequestRate and RequestBurst are the request bucket (Akamai: 50/s,
	// burst 100); rate 0 turns it off.
	RequestRate  float64
	RequestBurst int
	// URLRate/URLBurst and TagRate/TagBurst are the object buckets per
	// second (Akamai: 200/s burst 10,000, and 500/min burst 5,000); rate 0
	// turns one off.
	URLRate  float64
	URLBurst int
	TagRate  float64
	TagBurst int
	// RetryAfter sends Retry-After with a 429 (Akamai documents none).
	RetryAfter bool
	// Latency is added before every answer.
	Latency time.Duration
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	opts    Options
	clients map[string]Client
	handler http.Handler
	// core serves, injects and records, filing purged items by network;
	// its lock guards the buckets and seq.
	core     *standin.Core[Call, Failure, string]
	requests *standin.Bucket
	objects  map[string]*standin.Bucket // by kind
	seq      int
}

// New returns a stand-in configured by opts; call Start to serve it.
func New(opts Options) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = DefaultMaxSkew
	}
	if opts.EstimatedSeconds <= 0 {
		opts.EstimatedSeconds = DefaultEstimatedSeconds
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:    opts,
		clients: map[string]Client{},
		core: standin.New[Call, Failure, string](standin.Config[Call]{
			Name:    "akamaistub",
			Latency: opts.Latency,
			Arrived: func(c Call) time.Time { return c.At },
			Status:  func(c Call) int { return c.Status },
		}),
	}
	for _, c := range opts.Clients {
		s.clients[c.ClientToken] = c
	}
	s.refill()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ccu/v3/{action}/{kind}/{network}", s.handlePurge)
	mux.HandleFunc("/", s.handleNoRoute)
	s.handler = s.core.Track(mux)
	return s
}

// Handler serves the API at the root, as the API client's host does.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves the API on a free loopback port and returns its base URL.
func (s *Server) Start() (string, error) { return s.core.Start(s.handler) }

// Close stops serving and releases held calls.
func (s *Server) Close() { s.core.Close() }

// refill fills the buckets; the caller holds the core's lock or is New.
func (s *Server) refill() {
	s.requests = standin.NewBucket(s.opts.RequestRate, s.opts.RequestBurst, 1)
	s.objects = map[string]*standin.Bucket{
		KindURL: standin.NewBucket(s.opts.URLRate, s.opts.URLBurst, 1),
		KindTag: standin.NewBucket(s.opts.TagRate, s.opts.TagBurst, 1),
	}
}
