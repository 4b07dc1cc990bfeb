// Package akamai purges Akamai's cache through the Fast Purge API v3
// (https://techdocs.akamai.com/purge-cache/reference/api), with a small
// client of its own on net/http and an EdgeGrid signer of its own (Akamai's
// Go module is not available to this module).
//
// A request becomes API calls as follows:
//   - URLs are purged by URL: POST /ccu/v3/{action}/url/{network} with
//     {"objects": [...]};
//   - tags are Akamai cache tags: POST /ccu/v3/{action}/tag/{network};
//   - each call carries at most MaxObjectsPerCall objects, and fewer when
//     they would make the body larger than Fast Purge's 50,000 bytes.
//
// The action is invalidate (mark stale, Fast Purge's soft purge) when the
// request is Soft or the config says soft_purge, delete otherwise; the
// network is the config's, production or staging. Fast Purge purges
// account-wide: the request's Zone is not used.
//
// Fast Purge has no purge by host or prefix, and no purge of everything
// except by CP code, which edgepurge does not map to (a CP code is not a
// zone: it may span hosts, or a host several CP codes): a request with
// Hosts, Prefixes or Everything is refused whole, before any call, with a
// permanent *purge.Error naming them.
//
// "Done": a purge counts as done when Fast Purge accepts it (201). Fast
// Purge v3 has no status to poll; its answer's estimatedSeconds says when
// the edges should have it (seconds, typically), which the purger reports
// to Config.OnEstimate and never waits for.
package akamai

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// Purger is the Akamai purge.Purger. It is safe for concurrent use.
type Purger struct {
	signer      Signer
	baseURL     string // without trailing slash
	host        string // the Host the calls name and sign
	network     string
	soft        bool
	hc          *http.Client
	maxObjects  int
	maxBody     int
	maxInflight int
	now         func() time.Time
	onEstimate  func(time.Duration)
}

var _ purge.Purger = (*Purger)(nil)

// Option changes a Purger made by New.
type Option func(*Purger)

// OnEstimate is told Fast Purge's estimatedSeconds of every accepted call:
// when the edges should have the purge. It may be nil.
func OnEstimate(f func(time.Duration)) Option { return func(p *Purger) { p.onEstimate = f } }

// New returns a Purger for cfg (SetDefaults is applied to a copy). Its
// errors never contain a credential.
func New(cfg Config, opts ...Option) (*Purger, error) {
	cfg.SetDefaults()
	if cfg.edgercErr != nil {
		return nil, cfg.edgercErr
	}
	cr := cfg.Credentials()
	if cr.Host == "" || cr.ClientToken == "" || cr.ClientSecret == "" || cr.AccessToken == "" {
		return nil, errNoCredentials
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("akamai: %w", errs[0])
	}
	if cfg.MaxBody > MaxBodyBytes {
		return nil, fmt.Errorf("akamai: a body of %d bytes exceeds Fast Purge's limit of %d", cfg.MaxBody, MaxBodyBytes)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(nil)
	}
	p := &Purger{
		signer:      Signer{Credentials: cr},
		baseURL:     strings.TrimRight(cfg.BaseURL, "/"),
		host:        cr.Host,
		network:     cfg.Network,
		soft:        cfg.SoftPurge,
		hc:          hc,
		maxObjects:  cfg.MaxObjectsPerCall,
		maxBody:     cfg.MaxBody,
		maxInflight: cfg.MaxInflightCalls,
		now:         cfg.Now,
	}
	if p.now == nil {
		p.now = time.Now
	}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// NewHTTPClient is the default client: a timeout per call, keep-alive
// connections, and no redirects (a redirect would carry the signed request
// elsewhere). transport, when not nil, makes the round trips.
func NewHTTPClient(transport http.RoundTripper) *http.Client {
	if transport == nil {
		dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Name implements purge.Purger.
func (p *Purger) Name() string { return "akamai" }

// Network is the network purged, production or staging.
func (p *Purger) Network() string { return p.network }

// Purge implements purge.Purger. It first checks the request and refuses
// it whole, with a permanent *purge.Error and no call made, when it has
// hosts, prefixes, everything, URLs that are not absolute http(s) URLs,
// tags Akamai does not allow, or an object too large for a call. Otherwise it makes every call (see the
// package comment), at most MaxInflightCalls at once, even when some fail,
// and reports all failures in one *purge.Error (see purge.Combine). Calls
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
	res, errs := purge.RunCalls(ctx, len(calls), p.maxInflight, func(i int) string { return calls[i].op(p.network) },
		func(ctx context.Context, i int) (int, *purge.Error) { return p.send(ctx, calls[i]) })
	if pe := purge.Combine("purge akamai "+p.network, errs, func(i int) string { return calls[i].op("") }); pe != nil {
		return res, pe
	}
	return res, nil
}

// asciiURL returns raw as Fast Purge takes it, ok false when it is not an
// absolute http(s) URL. Fast Purge refuses a URL with a non-ASCII character
// (400 "bad URL"; https://techdocs.akamai.com/purge-cache/reference/api-errors),
// so such a path or query is sent percent-encoded, as browsers request it
// and the edge caches it; a non-ASCII host is refused.
func asciiURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	if isASCII(raw) {
		return raw, true
	}
	if !isASCII(u.Host) {
		return "", false
	}
	u.RawQuery = asciiQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	return u.String(), true
}

// asciiQuery percent-encodes the non-ASCII bytes of a raw query, leaving
// the rest as it is.
func asciiQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c >= 0x80 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
