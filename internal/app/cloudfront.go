package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/wrap"
)

// newCloudFront builds the CloudFront backend: the purger, which batches
// and paces its own calls (see package purge/cloudfront: the coalescing
// queue would merge requests and lose the Ref each re-drive finds its
// invalidations by), its invalidation records and its budget of API
// calls in Redis, behind the breaker and the calls layer.
func (a *App) newCloudFront() error {
	cc := a.cfg.CloudFront
	cc.Refs = cloudfront.RedisRefs{RDB: a.redis, Prefix: cc.RefsPrefix, TTL: cc.RefTTL}
	if !cc.RateLimit.Disabled {
		lim := ratelimit.New(a.redis, cc.RateLimitPrefix(), cc.Limits(), a.log)
		lim.OnFallback = func(bk ratelimit.Bucket) { a.Metrics.RateLimitFallbacks.WithLabelValues(string(bk)).Inc() }
		cc.Budget = lim
	}
	cc.HTTPClient = cloudfrontHTTPClient(a.ops.metrics)
	cc.OnRetry = a.res.metrics.Retried(config.CDNCloudFront)
	cp, err := cloudfront.New(context.Background(), cc)
	if err != nil {
		return err
	}
	a.cloudfront = cp
	var layers wrap.Layers
	if !cc.Breaker.Disabled {
		layers.Breaker = a.breakerConfig(config.CDNCloudFront, cc.Breaker)
	}
	calls := a.callsLayer(config.CDNCloudFront, cc.Distribution)
	layers.Calls = func(target string, req purge.Request, err error) {
		// An invalidation CloudFront accepted and is still working on at
		// the deadline is no failure of the target.
		if pe := purge.AsError(err); pe != nil && pe.Pending {
			err = nil
		}
		calls(target, req, err)
	}
	a.addCDN(cdnBackend{name: config.CDNCloudFront, wrapped: wrap.Build(cloudfrontZones{cp, cc.Distribution}, layers)})
	for _, d := range cc.DistributionIDs() {
		a.trackTarget(config.CDNCloudFront, d)
	}
	return nil
}

// cloudfrontZones routes a purge to the distribution of its zone
// (cloudfront.zones, else cloudfront.distribution_id); URLs whose host
// cloudfront.distributions maps go to that distribution whatever the
// zone. The innermost layer of CloudFront's wrappers.
type cloudfrontZones struct {
	next purge.Purger
	dist func(zone string) string
}

func (c cloudfrontZones) Name() string { return c.next.Name() }

func (c cloudfrontZones) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	req.Zone = c.dist(req.Zone)
	return c.next.Purge(ctx, req)
}

// cloudfrontHTTPClient is the CloudFront purger's HTTP client: a CDN
// transport, counting the answers to CreateInvalidation calls by
// distribution and status.
func cloudfrontHTTPClient(m *metrics.Ops) *http.Client {
	return &http.Client{Transport: observing{next: cdnTransport(), observe: func(r *http.Request, status int) {
		m.ObserveCDNRequest(config.CDNCloudFront, cloudfrontDistribution(r.URL.Path), status)
	}}}
}

// cloudfrontDistribution is the distribution id of an API path
// (/2020-05-31/distribution/{id}/...).
func cloudfrontDistribution(path string) string {
	_, rest, ok := strings.Cut(path, "/distribution/")
	if !ok {
		return "unknown"
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// cloudfrontProbe reads each distribution (GetDistribution): it proves the
// credentials, the signature and that the distribution exists, and feeds
// its target's check. Serve's probe does not invalidate: CloudFront
// charges for paths beyond the first 1,000 a month, and a probe path
// every interval would pass that (see docs/cdns.md); purges prove
// cloudfront:CreateInvalidation, and so does the deploy gate: edgepurge
// check also invalidates probe.path once on each distribution (one path
// a run), so a key that can read but not purge fails the gate.
func (a *App) cloudfrontProbe(dist string) Probe {
	// readFailed says the target's last failure was this read's: a read
	// that passes again clears it. A failed purge (a key without
	// cloudfront:CreateInvalidation, say) is not cleared by a read, which
	// proves nothing about purging: only a purge that passes clears it.
	readFailed := false
	read := func(ctx context.Context) error {
		err := a.cloudfront.CheckDistribution(ctx, dist)
		if err != nil && ctx.Err() != nil && purge.AsError(err) == nil {
			err = fmt.Errorf("read cloudfront distribution %s: %w", dist, err)
		}
		if err == nil && !readFailed && a.purgeFailing(dist) {
			return nil
		}
		readFailed = err != nil
		a.recordCall(config.CDNCloudFront, dist, 0, 0, err)
		return err
	}
	return Probe{
		Backend: config.CDNCloudFront, Targets: []string{dist}, What: "nothing: read with GetDistribution",
		run:      read,
		gateWhat: "read with GetDistribution; invalidated " + a.cfg.Probe.Path + " (one path, not waited for)",
		gate: func(ctx context.Context) error {
			if err := read(ctx); err != nil {
				return err
			}
			err := a.cloudfront.ProveInvalidation(ctx, dist, a.cfg.Probe.Path)
			a.recordCall(config.CDNCloudFront, dist, 1, 0, err)
			return err
		},
	}
}

// purgeFailing says distribution dist's check is failing.
func (a *App) purgeFailing(dist string) bool {
	for _, ts := range a.Health.Targets() {
		if ts.Backend == config.CDNCloudFront && ts.Target == dist {
			return !ts.FailingSince.IsZero()
		}
	}
	return false
}
