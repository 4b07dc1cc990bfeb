// Package fastly purges Fastly's cache through Fastly's purge API, with a
// small client of its own on net/http (the official Go client is not
// available to this module). One Purger serves every Fastly service its
// token may purge; purge.Request.Zone is the service ID.
//
// A request becomes API calls as follows:
//   - each URL is one API-side URL purge, POST /purge/{host}{path}
//     (scheme and fragment dropped, query kept), authenticated with the
//     Fastly-Key header like every other call;
//   - tags are surrogate keys, purged in batches of at most MaxKeysPerCall
//     with POST /service/{id}/purge and a {"surrogate_keys": [...]} body;
//   - Everything is one POST /service/{id}/purge_all.
//
// With Config.SoftPurge, or a request's Soft, URL and key purges carry
// Fastly-Soft-Purge: 1, which marks objects stale instead of evicting them. Fastly cannot
// soft-purge everything: purge_all is always hard, so the header is not
// sent with it. Fastly has no purge by hostname or by prefix: a request
// with Hosts or Prefixes is refused whole, before any call, with a
// permanent *purge.Error naming them.
package fastly

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// Defaults of Config.
const (
	// DefaultBaseURL is Fastly's API.
	DefaultBaseURL = "https://api.fastly.com"
	// DefaultMaxKeysPerCall is Fastly's limit of surrogate keys in one
	// batch purge.
	DefaultMaxKeysPerCall = 256
	// DefaultMaxInflight bounds the calls one request has in flight: URLs
	// are purged one call each, so a page with many URLs needs several at
	// once to finish in a few round trips.
	DefaultMaxInflight = 8
	// DefaultTimeout bounds one call of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// Config configures a Purger.
type Config struct {
	// APIToken is the Fastly API token, sent as the Fastly-Key header. URL
	// and key purges need the purge_select (or global) scope, Everything
	// needs purge_all (or global).
	APIToken string
	// BaseURL is the API's base; default DefaultBaseURL.
	BaseURL string
	// SoftPurge marks purged URLs and keys stale rather than evicting them.
	SoftPurge bool
	// HTTPClient, when set, makes the calls. The default has a
	// DefaultTimeout per call, keeps MaxInflight connections alive, and
	// does not follow redirects, which would carry the Fastly-Key header to
	// wherever they point.
	HTTPClient *http.Client
	// MaxKeysPerCall is the most surrogate keys one call carries; default
	// and maximum DefaultMaxKeysPerCall.
	MaxKeysPerCall int
	// MaxInflight is the most calls one Purge has in flight; default
	// DefaultMaxInflight.
	MaxInflight int
}

// Purger is the Fastly purge.Purger. It is safe for concurrent use.
type Purger struct {
	token       string
	baseURL     string // without trailing slash
	soft        bool
	hc          *http.Client
	maxKeys     int
	maxInflight int
}

var _ purge.Purger = (*Purger)(nil)

// New returns a Purger for cfg. Its errors never contain the token.
func New(cfg Config) (*Purger, error) {
	if cfg.APIToken == "" {
		return nil, errors.New("fastly: no API token")
	}
	if strings.ContainsAny(cfg.APIToken, "\r\n\x00") {
		return nil, errors.New("fastly: API token contains control characters")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fastly: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.MaxKeysPerCall <= 0 {
		cfg.MaxKeysPerCall = DefaultMaxKeysPerCall
	}
	if cfg.MaxKeysPerCall > DefaultMaxKeysPerCall {
		return nil, fmt.Errorf("fastly: %d keys per call exceeds Fastly's limit of %d", cfg.MaxKeysPerCall, DefaultMaxKeysPerCall)
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient(cfg.MaxInflight)
	}
	return &Purger{
		token:       cfg.APIToken,
		baseURL:     strings.TrimRight(cfg.BaseURL, "/"),
		soft:        cfg.SoftPurge,
		hc:          hc,
		maxKeys:     cfg.MaxKeysPerCall,
		maxInflight: cfg.MaxInflight,
	}, nil
}

// newHTTPClient is the default client: a timeout per call, keep-alive
// connections for maxInflight calls at once, and no redirects.
func newHTTPClient(maxInflight int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, maxInflight),
		MaxIdleConnsPerHost:   maxInflight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Name implements purge.Purger.
func (p *Purger) Name() string { return "fastly" }

// Purge implements purge.Purger for the Fastly service req.Zone. It first
// checks the request and refuses it whole, with a permanent *purge.Error
// and no call made, when it has hosts, prefixes or URLs that are not
// absolute http(s) URLs. Otherwise it makes every call (see the package
// comment), at most MaxInflight at once, even when some fail, and reports
// all failures in one *purge.Error (see combine). Calls still waiting for
// a slot when ctx ends are not sent; their error says Unsent.
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	if req.Empty() {
		return purge.Result{}, nil
	}
	calls, refusal := p.plan(req)
	if refusal != nil {
		return purge.Result{}, refusal
	}
	accepted := make([]int, len(calls))
	errs := make([]*purge.Error, len(calls))
	made := make([]bool, len(calls))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(p.maxInflight, len(calls)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(calls) {
					return
				}
				c := calls[i]
				if ctx.Err() != nil {
					errs[i] = unsentError(c.op(req.Zone), ctx.Err())
					continue
				}
				made[i] = true
				accepted[i], errs[i] = p.send(ctx, req.Zone, c)
			}
		})
	}
	wg.Wait()

	var res purge.Result
	var failed []*purge.Error
	var failedOps []string
	for i, c := range calls {
		if made[i] {
			res.Calls++
		}
		res.Items += accepted[i]
		if errs[i] != nil {
			failed = append(failed, errs[i])
			failedOps = append(failedOps, c.op(""))
		}
	}
	if len(failed) > 0 {
		return res, combine(req.Zone, len(calls), failed, failedOps)
	}
	return res, nil
}

// PurgeAllPerHour is Fastly's documented limit of non-read API calls per
// user an hour, which purge_all counts against and URL and surrogate-key
// purges do not (https://docs.fastly.com/api/, "Rate limiting"). Other
// tools of the same user spend it too: Fastly-RateLimit-Reset on a 429
// says when it is back.
const PurgeAllPerHour = 1000
