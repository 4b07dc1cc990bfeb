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
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

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
	if strings.ContainsAny(cfg.APIToken.Value(), "\r\n\x00") {
		return nil, errors.New("fastly: API token contains control characters")
	}
	cfg.SetDefaults()
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fastly: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.MaxKeysPerCall = cmp.Or(cfg.MaxKeysPerCall, DefaultMaxKeysPerCall)
	if cfg.MaxKeysPerCall > DefaultMaxKeysPerCall {
		return nil, fmt.Errorf("fastly: %d keys per call exceeds Fastly's limit of %d", cfg.MaxKeysPerCall, DefaultMaxKeysPerCall)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient(cfg.MaxInflightCalls)
	}
	return &Purger{
		token:       cfg.APIToken.Value(),
		baseURL:     strings.TrimRight(cfg.BaseURL, "/"),
		soft:        cfg.SoftPurge,
		hc:          hc,
		maxKeys:     cfg.MaxKeysPerCall,
		maxInflight: cfg.MaxInflightCalls,
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
// comment), at most MaxInflightCalls at once, even when some fail, and
// reports all failures in one *purge.Error (see purge.Combine). Calls
// still waiting for a slot when ctx ends are not sent; their error says
// Unsent.
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	if req.Empty() {
		return purge.Result{}, nil
	}
	calls, refusal := p.plan(req)
	if refusal != nil {
		return purge.Result{}, refusal
	}
	res, errs := purge.RunCalls(ctx, len(calls), p.maxInflight, func(i int) string { return calls[i].op(req.Zone) },
		func(ctx context.Context, i int) (int, *purge.Error) { return p.send(ctx, req.Zone, calls[i]) })
	if pe := purge.Combine("purge fastly service "+req.Zone, errs, func(i int) string { return calls[i].op("") }); pe != nil {
		return res, pe
	}
	return res, nil
}
