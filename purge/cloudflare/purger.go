// Package cloudflare purges Cloudflare's CDN cache through the official
// cloudflare-go SDK. It imports only the SDK's cache, option, user and
// accounts packages, not its root package, which would pull in every
// Cloudflare service.
//
// A token is a user token or an account-owned one; they verify at
// different endpoints (see CheckToken). Purging needs only the zone's
// "Zone → Cache Purge → Purge"; reading the zone (CheckZone) needs "Zone →
// Zone → Read" as well. When Cloudflare refuses a call for want of one of
// them, the *purge.Error names it in Permission and its message says what
// to grant.
package cloudflare

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/cloudflare/cloudflare-go/v7/accounts"
	"github.com/cloudflare/cloudflare-go/v7/cache"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/user"

	"github.com/edgepurge/edgepurge/purge"
)

// maxConcurrentCalls bounds the API calls one request has in flight, so a
// large request finishes in a few round trips without flooding the API.
const maxConcurrentCalls = 4

// Purger is the Cloudflare purge.Purger. It is safe for concurrent use.
type Purger struct {
	cache  *cache.CacheService
	tokens *user.TokenService
	// accountTokens verifies account-owned tokens, of accountID.
	accountTokens *accounts.TokenService
	accountID     string
	token         string
	// baseURL and httpClient serve the plain calls the SDK packages in
	// use do not cover (CheckZone).
	baseURL    string
	httpClient *http.Client
	maxURLs    int
	maxItems   int
}

var _ purge.Purger = (*Purger)(nil)

// New returns a Purger for cfg.
func New(cfg Config) (*Purger, error) {
	if cfg.APIToken == "" {
		return nil, errors.New("cloudflare: no API token")
	}
	cfg.SetDefaults()
	cfg.BaseURL = cmp.Or(cfg.BaseURL, DefaultBaseURL)
	cfg.MaxItemsPerCall = cmp.Or(cfg.MaxItemsPerCall, DefaultMaxItemsPerCall)
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIToken(cfg.APIToken.Value()),
		// Retrying is edgepurge's decision, made with the rate limits in view.
		option.WithMaxRetries(0),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Purger{
		cache:         cache.NewCacheService(opts...),
		tokens:        user.NewTokenService(opts...),
		accountTokens: accounts.NewTokenService(opts...),
		accountID:     cfg.AccountID,
		token:         cfg.APIToken.Value(),
		baseURL:       cfg.BaseURL,
		httpClient:    cfg.HTTPClient,
		maxURLs:       cfg.MaxURLsPerCall,
		maxItems:      cfg.MaxItemsPerCall,
	}, nil
}

// Name implements purge.Purger.
func (p *Purger) Name() string { return "cloudflare" }

// Purge implements purge.Purger. URLs go in calls of at most MaxURLsPerCall,
// tags, hosts and prefixes each in their own calls of at most
// MaxItemsPerCall, and purge-everything in a call of its own; up to four
// calls run at once. Every call is made even when another fails, and all
// failures are reported in one *purge.Error (see purge.Combine).
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	if req.Empty() {
		return purge.Result{}, nil
	}
	if req.Zone == "" {
		return purge.Result{}, &purge.Error{Op: "purge cloudflare", Message: "request has no zone"}
	}
	calls := p.plan(req)
	op := func(i int) string { return calls[i].op("") }
	res, errs := purge.RunCalls(ctx, len(calls), maxConcurrentCalls, func(i int) string { return calls[i].op(req.Zone) },
		func(ctx context.Context, i int) (int, *purge.Error) {
			if pe := p.send(ctx, req.Zone, calls[i]); pe != nil {
				return 0, pe
			}
			return calls[i].size(), nil
		})
	if pe := purge.Combine("purge zone "+req.Zone, errs, op); pe != nil {
		return res, pe
	}
	return res, nil
}

// send makes one purge_cache call.
func (p *Purger) send(ctx context.Context, zone string, c call) *purge.Error {
	var params cache.CachePurgeParams
	params.ZoneID.Value, params.ZoneID.Present = zone, true
	params.Body = c.body()
	// Decoding the envelope ourselves lets us see "success": false, which
	// Cloudflare may answer with HTTP 200.
	var env envelope[purgeResult]
	var res *http.Response
	_, err := p.cache.Purge(ctx, params, option.WithResponseBodyInto(&env), option.WithResponseInto(&res))
	if err != nil {
		return refused(p.toError(ctx, c.op(zone), res, err), PermissionCachePurge, zone, "")
	}
	return env.check(c.op(zone), res)
}
