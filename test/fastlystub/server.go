// Package fastlystub is an in-process stand-in for the parts of Fastly's API
// that edgepurge uses, speaking their wire format: the API-side URL purge
// (POST /purge/{host}{path}), the batch and single surrogate-key purges
// (POST /service/{id}/purge and /service/{id}/purge/{key}), purge-all
// (POST /service/{id}/purge_all), the current token (GET /tokens/self) and a
// service's details (GET /service/{id}). It checks the Fastly-Key header and
// token scopes, enforces the 256-keys-per-call limit, throttles purge calls
// with a token bucket answering 429 with Fastly's rate-limit headers, and
// lets tests inject latency, failures and hangs and inspect every call.
//
// What is modelled, and what is not:
//   - Authentication: a missing or unknown Fastly-Key is refused with 401
//     {"msg":"Provided credentials are missing or invalid"} on every
//     endpoint, URL purges included. Real URL purges need no token unless
//     the service sets Fastly-Purge-Requires-Auth, which Fastly recommends;
//     the stand-in plays such a service.
//   - Rate limit, as Fastly documents it (https://docs.fastly.com/api/,
//     "Rate limiting"): 1,000 non-read calls an hour per user
//     (Options.APIPerHour; each token plays its own user), in a window
//     that resets at the top of the hour. Of the calls served, purge_all
//     counts; URL and surrogate-key purges do not, and reads (GET) are
//     never limited. A counted call's answer carries
//     Fastly-RateLimit-Remaining and Fastly-RateLimit-Reset (the Unix
//     second of the reset); over the budget it is refused with 429 and
//     those headers, without Retry-After (Fastly documents none there).
//     SetAPIWindow plays another tool having spent the user's hour.
//   - An extra throttle a test can opt into (Options.PurgeRate): one
//     bucket of purge calls (URL, key and purge-all alike, one token per
//     call whatever its size), shared by every token, whose answers carry
//     Fastly's rate-limit headers and whose 429 carries Retry-After too
//     (unless OmitRetryAfter). It is not Fastly's documented behaviour:
//     Fastly publishes no rate for URL and key purges, so its shape is
//     unconfirmed; it is there to test a client's handling of 429s on
//     those calls.
//   - URL purges are not scoped to a service by Fastly; the stand-in files
//     them under the service Options.Domains gives their host, or under ""
//     when the host is not listed, and answers "ok" either way.
//   - Error bodies use Fastly's legacy {"msg": ..., "detail": ...} shape
//     unless Options.ErrorShape or Failure.Shape picks another of the forms
//     Fastly answers in (Shape); a batch purge of more keys than the limit
//     gets {"status":"fail","reason":"Batch surrogate key request only
//     supports up to 256 surrogate keys"} with 400, as Fastly was seen to
//     answer. The 401 text is Fastly's; the texts of other 400s, 403 and
//     404 are plausible stand-ins, as Fastly does not document them.
package fastlystub

import (
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// DefaultAPIPerHour is Fastly's documented limit of non-read API calls
// per user an hour, used when Options.APIPerHour is 0.
const DefaultAPIPerHour = 1000

// DefaultMaxKeysPerCall is Fastly's limit of surrogate keys in one batch
// purge, used when Options.MaxKeysPerCall is 0.
const DefaultMaxKeysPerCall = 256

// Token scopes, as in Options.Scopes and GET /tokens/self.
const (
	// ScopeGlobal allows everything the token's user may do.
	ScopeGlobal = "global"
	// ScopeGlobalRead allows reads such as GET /service/{id}.
	ScopeGlobalRead = "global:read"
	// ScopePurgeSelect allows URL and surrogate-key purges only.
	ScopePurgeSelect = "purge_select"
	// ScopePurgeAll allows purge_all.
	ScopePurgeAll = "purge_all"
)

// Options configure a Server.
type Options struct {
	// Tokens are the accepted Fastly-Key values.
	Tokens []string
	// Scopes optionally limits a token to some scopes (Scope* constants);
	// a token without an entry has ScopeGlobal.
	Scopes map[string][]string
	// Services are the known service IDs; others answer 404. When empty,
	// every service ID is known.
	Services []string
	// ServiceNames optionally names a service in GET /service/{id};
	// otherwise its name is "<id>-name".
	ServiceNames map[string]string
	// Domains maps a hostname to the service that URL purges of it are
	// recorded under.
	Domains map[string]string
	// MaxKeysPerCall is the most surrogate keys one batch purge may carry;
	// default DefaultMaxKeysPerCall.
	MaxKeysPerCall int
	// APIPerHour is each token's budget of counted (non-read, not URL or
	// key purge) calls an hour, Fastly's per-user API limit: 0 means
	// DefaultAPIPerHour, a negative value no limit.
	APIPerHour int
	// PurgeRate is how many purge calls per second the opt-in throttle's
	// bucket refills (an unconfirmed limit; see the package comment); 0
	// means no throttle.
	PurgeRate float64
	// PurgeBurst is the bucket's size; 0 means max(ceil(PurgeRate), 1).
	PurgeBurst int
	// OmitRetryAfter answers 429 with Fastly-RateLimit-Remaining and
	// Fastly-RateLimit-Reset only, the headers Fastly documents, without
	// Retry-After.
	OmitRetryAfter bool
	// ErrorShape is the form of the stand-in's own error answers (401,
	// 403, 404, 429 and malformed purges); the zero value is ShapeLegacy.
	// The batch purge's answer for too many keys is always
	// ShapeStatusFail, as Fastly's is; an injected Failure has its own.
	ErrorShape Shape
	// Latency is added before every answer.
	Latency time.Duration
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	opts     Options
	tokens   standin.Set
	services standin.Set
	maxKeys  int
	handler  http.Handler
	// core serves, injects and records, filing purged items by service;
	// its lock guards bucket and seq.
	core   *standin.Core[Call, Failure, string]
	bucket *standin.Bucket
	seq    int // purge ids handed out
	// hours are each token's hourly API window, also under core's lock.
	hours map[string]*apiWindow
}

// apiWindow is what is left of a token's hourly API budget, and when it
// is whole again.
type apiWindow struct {
	remaining int
	reset     time.Time
}

// New returns a stand-in configured by opts; call Start to serve it, or
// use Handler with an httptest.Server.
func New(opts Options) *Server {
	if opts.MaxKeysPerCall <= 0 {
		opts.MaxKeysPerCall = DefaultMaxKeysPerCall
	}
	s := &Server{
		opts:     opts,
		tokens:   standin.SetOf(opts.Tokens),
		services: standin.SetOf(opts.Services),
		maxKeys:  opts.MaxKeysPerCall,
		core: standin.New[Call, Failure, string](standin.Config[Call]{
			Name:    "fastlystub",
			Latency: opts.Latency,
			Arrived: func(c Call) time.Time { return c.At },
			Status:  func(c Call) int { return c.Status },
		}),
	}
	s.refill()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /purge/{url...}", s.handlePurgeURL)
	mux.HandleFunc("POST /service/{service_id}/purge", s.handlePurgeKeys)
	mux.HandleFunc("POST /service/{service_id}/purge/{key}", s.handlePurgeKey)
	mux.HandleFunc("POST /service/{service_id}/purge_all", s.handlePurgeAll)
	mux.HandleFunc("GET /tokens/self", s.handleTokenSelf)
	mux.HandleFunc("GET /service/{service_id}", s.handleService)
	mux.HandleFunc("/", s.handleNoRoute)
	s.handler = s.core.Track(mux)
	return s
}

// Handler serves the API at the root, as api.fastly.com does.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves the API on a free loopback port and returns its base URL,
// e.g. "http://127.0.0.1:41234".
func (s *Server) Start() (string, error) { return s.core.Start(s.handler) }

// Close stops serving and releases calls that are hanging or waiting out
// their latency.
func (s *Server) Close() { s.core.Close() }
