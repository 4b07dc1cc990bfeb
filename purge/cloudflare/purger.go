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
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/cloudflare/cloudflare-go/v7/accounts"
	"github.com/cloudflare/cloudflare-go/v7/cache"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/user"

	"github.com/edgepurge/edgepurge/purge"
)

// Defaults of Config.
const (
	// DefaultBaseURL is Cloudflare's v4 API.
	DefaultBaseURL = "https://api.cloudflare.com/client/v4/"
	// DefaultMaxURLsPerCall is the single-file purge limit of one call.
	DefaultMaxURLsPerCall = 100
	// DefaultMaxItemsPerCall is the tag, host and prefix limit of one call.
	DefaultMaxItemsPerCall = 100
)

// maxConcurrentCalls bounds the API calls one request has in flight, so a
// large request finishes in a few round trips without flooding the API.
const maxConcurrentCalls = 4

// Config configures a Purger.
type Config struct {
	// APIToken is the bearer token; purging needs the zones' "Zone → Cache
	// Purge → Purge" permission, and CheckZone "Zone → Zone → Read".
	APIToken string
	// AccountID, when set, says the token is account-owned by that account:
	// CheckToken verifies it at GET /accounts/{AccountID}/tokens/verify
	// instead of the user tokens' GET /user/tokens/verify, which refuses
	// account-owned tokens.
	AccountID string
	// BaseURL is the API's base; default DefaultBaseURL.
	BaseURL string
	// MaxURLsPerCall is the most URLs one call carries; default
	// DefaultMaxURLsPerCall, the limit of every plan (Enterprise allows
	// 500: https://developers.cloudflare.com/cache/how-to/purge-cache/).
	MaxURLsPerCall int
	// MaxItemsPerCall is the most tags, hosts or prefixes one call carries;
	// default DefaultMaxItemsPerCall.
	MaxItemsPerCall int
	// HTTPClient, when set, makes the calls; default http.DefaultClient.
	HTTPClient *http.Client
}

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
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.MaxURLsPerCall <= 0 {
		cfg.MaxURLsPerCall = DefaultMaxURLsPerCall
	}
	if cfg.MaxItemsPerCall <= 0 {
		cfg.MaxItemsPerCall = DefaultMaxItemsPerCall
	}
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIToken(cfg.APIToken),
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
		token:         cfg.APIToken,
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
// failures are reported in one *purge.Error (see combine).
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	if req.Empty() {
		return purge.Result{}, nil
	}
	if req.Zone == "" {
		return purge.Result{}, &purge.Error{Op: "purge cloudflare", Message: "request has no zone"}
	}
	calls := p.plan(req)
	errs := make([]*purge.Error, len(calls))
	made := make([]bool, len(calls))
	slots := make(chan struct{}, maxConcurrentCalls)
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				errs[i] = p.toError(ctx, c.op(req.Zone), nil, ctx.Err())
				return
			}
			made[i] = true
			errs[i] = p.send(ctx, req.Zone, c)
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
		if errs[i] != nil {
			failed = append(failed, errs[i])
			failedOps = append(failedOps, c.op(""))
			continue
		}
		res.Items += c.size()
	}
	if len(failed) > 0 {
		return res, combine(req.Zone, len(calls), failed, failedOps)
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
