// Package cfstub is an in-process stand-in for Cloudflare's v4 API, speaking
// its wire format: the purge_cache endpoint with its item limit and rate
// limits, token verification (user and account-owned tokens) and zone
// details, with tokens that hold some permissions on some zones (see
// Token). Tests and benchmarks point
// the real cloudflare-go SDK at it, inject failures and latency at run time,
// and inspect which calls arrived and what was purged.
package cfstub

import (
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// DefaultMaxItemsPerCall is the item limit of one purge call when
// Options.MaxItemsPerCall is 0.
const DefaultMaxItemsPerCall = 100

// Options configure a Server.
type Options struct {
	// Tokens are the accepted API tokens (sent as "Authorization: Bearer
	// T"), each a user token with every permission on every zone.
	Tokens []string
	// ScopedTokens declares more tokens, each with its owner (a user, or
	// an account for account-owned tokens), permissions and zones; see
	// Token. A value also in Tokens takes this declaration.
	ScopedTokens []Token
	// PurgeDeniedCode is the error code of the 403 answering a purge by a
	// token without Cache Purge on the zone: CodeAuthError (10000,
	// "Authentication error"; the default) or CodeUnauthorized (9109,
	// "Unauthorized to access requested resource"). Cloudflare does not
	// document which it sends, so clients are tested against both.
	PurgeDeniedCode int
	// Zones are the known zone ids. When empty, every zone id is known.
	Zones []string
	// ZoneNames optionally gives a zone id its name in GET /zones/{id};
	// otherwise the name is "<id>.example.com".
	ZoneNames map[string]string
	// MaxItemsPerCall is the most URLs, tags, hosts or prefixes one purge
	// call may carry; default DefaultMaxItemsPerCall.
	MaxItemsPerCall int
	// TooManyItemsCode is the error code of the 400 answering a purge of
	// more than MaxItemsPerCall items; 0 means CodeTooManyItems. The real
	// code is not documented nor found in public reports (CodeTooManyItems
	// is a stand-in), so clients are tested against more than one.
	TooManyItemsCode int
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
	// Plans gives the zones of other plans in the account buckets of
	// their own: Cloudflare's purge buckets are per account and plan
	// (https://developers.cloudflare.com/cache/how-to/purge-cache/ gives
	// the limits per plan). A zone no plan lists spends the buckets above.
	Plans []Plan
	// Latency is added before every answer.
	Latency time.Duration
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	opts     Options
	tokens   map[string]Token
	zones    standin.Set
	maxItems int
	handler  http.Handler
	// core serves, injects and records; its lock guards the buckets.
	core       *standin.Core[Call, Failure, purgeKey]
	urlBucket  *standin.Bucket
	flexBucket *standin.Bucket
	// planBuckets are the buckets of Options.Plans, by zone.
	planBuckets map[string]*buckets
}

// Plan is a plan's buckets in the account and the zones on that plan.
type Plan struct {
	// Name names the plan in tests' messages, e.g. "free".
	Name string
	// Zones are the zones on this plan.
	Zones []string
	// URLRate, URLBurst, FlexRate and FlexBurst are as in Options.
	URLRate   float64
	URLBurst  int
	FlexRate  float64
	FlexBurst int
}

// buckets are one plan's URL and flex buckets.
type buckets struct{ url, flex *standin.Bucket }

// purgeKey is what Purged files items under.
type purgeKey struct{ zone, kind string }

// New returns a stand-in configured by opts; call Start to serve it, or use
// Handler with an httptest.Server.
func New(opts Options) *Server {
	if opts.MaxItemsPerCall <= 0 {
		opts.MaxItemsPerCall = DefaultMaxItemsPerCall
	}
	s := &Server{
		opts:     opts,
		tokens:   tokenTable(opts),
		zones:    standin.SetOf(opts.Zones),
		maxItems: opts.MaxItemsPerCall,
		core: standin.New[Call, Failure, purgeKey](standin.Config[Call]{
			Name:    "cfstub",
			Latency: opts.Latency,
			Arrived: func(c Call) time.Time { return c.At },
			Status:  func(c Call) int { return c.Status },
		}),
	}
	s.refill()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /client/v4/zones/{zone_id}/purge_cache", s.handlePurge)
	mux.HandleFunc("GET /client/v4/zones/{zone_id}", s.handleZone)
	mux.HandleFunc("GET /client/v4/user/tokens/verify", s.handleVerify)
	mux.HandleFunc("GET /client/v4/accounts/{account_id}/tokens/verify", s.handleAccountVerify)
	mux.HandleFunc("/", s.handleNoRoute)
	s.handler = mux
	return s
}

// Handler serves the API under /client/v4/.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves the API on a free loopback port and returns its base URL,
// e.g. "http://127.0.0.1:41234/client/v4/".
func (s *Server) Start() (string, error) {
	root, err := s.core.Start(s.handler)
	if err != nil {
		return "", err
	}
	return root + "/client/v4/", nil
}

// Close stops serving and releases calls that are hanging or waiting out
// their latency.
func (s *Server) Close() { s.core.Close() }

// handleNoRoute answers paths the stand-in does not serve the way
// Cloudflare answers unknown routes.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	a := fail(http.StatusBadRequest, apiError{Code: CodeNoRoute, Message: "No route for that URI"})
	a.write(w)
	s.core.Record(Call{At: at, Method: r.Method, Path: r.URL.Path, Status: a.status, Codes: a.codes()})
}
