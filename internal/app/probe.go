package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/fastly"
)

// ProbePage is the page id the default rule's hosts are rendered with for
// a probe URL.
const ProbePage = "edgepurge-probe"

// redisInterval is how often the Redis probe runs: it is one cheap
// command, and Redis is the first step of every purge.
const redisInterval = time.Second

// A Probe is one backend's harmless purge, proving its targets: a URL no
// page serves and a tag no page uses, through the backend's real client,
// breaker and rate budget.
type Probe struct {
	// Backend is the backend's name; Targets the checks the purge proves
	// (one zone or service; every Varnish node).
	Backend string
	Targets []string
	// What says what it purges, for check's lines.
	What string
	req  purge.Request
	via  purge.Purger
	// run, when set, is the probe instead of purging req (CloudFront's
	// read: see cloudfrontProbe).
	run func(ctx context.Context) error
	// gate, when set, is the deploy gate's proof instead of Run
	// (ProbeOnce): CloudFront's read and one invalidation.
	gate     func(ctx context.Context) error
	gateWhat string
}

// Probes are this configuration's CDN probes, one per Cloudflare zone and
// Fastly service, one for Akamai's network, one for all Varnish nodes;
// none in a dry run.
func (a *App) Probes() []Probe {
	if a.cfg.DryRun {
		return nil
	}
	var out []Probe
	tag := a.cfg.Probe.Tag
	if cs := a.cdnOf("cloudflare"); cs != nil {
		for _, z := range a.cfg.CloudflareZones() {
			req := purge.Request{Zone: z, URLs: []string{probeURL(a.cfg, z)}}
			// The free plan's tag budget is 5 calls a minute for the
			// whole account: the probe leaves it to the pages.
			if a.cfg.Cloudflare.Plan != "free" {
				req.Tags = []string{tag}
			}
			out = append(out, Probe{Backend: "cloudflare", Targets: []string{z}, req: req, via: cs.wrapped.Purger})
		}
	}
	if cs := a.cdnOf("fastly"); cs != nil {
		for _, s := range a.cfg.Fastly.ServiceIDs() {
			zone := fastlyZoneOf(a.cfg.Fastly, s)
			req := purge.Request{Zone: zone, URLs: []string{probeURL(a.cfg, zone)}, Tags: []string{tag}}
			out = append(out, Probe{Backend: "fastly", Targets: []string{s}, req: req, via: cs.wrapped.Purger})
		}
	}
	if cs := a.cdnOf(config.CDNAkamai); cs != nil {
		// Fast Purge has no read-only call that proves a purge grant: the
		// probe invalidates (soft) a URL and a tag no page serves, on the
		// configured network. It spends one URL and one tag object of the
		// account's budget (12,000 and 500 a minute) per interval.
		network := a.cfg.Akamai.Network
		req := purge.Request{URLs: []string{probeURL(a.cfg, a.cfg.Cloudflare.ZoneID)}, Tags: []string{tag}, Soft: true}
		out = append(out, Probe{Backend: config.CDNAkamai, Targets: []string{network}, req: req, via: cs.wrapped.Purger})
	}
	if cs := a.cdnOf("varnish"); cs != nil {
		req := purge.Request{URLs: []string{probeURL(a.cfg, a.cfg.Cloudflare.ZoneID)}, Tags: []string{tag}}
		out = append(out, Probe{Backend: "varnish", Targets: slices.Clone(a.varnishNodes), req: req, via: cs.wrapped.Purger})
	}
	if a.cloudfront != nil {
		for _, d := range a.cfg.CloudFront.DistributionIDs() {
			out = append(out, a.cloudfrontProbe(d))
		}
	}
	for i := range out {
		p := &out[i]
		if p.run != nil {
			continue
		}
		p.What = strings.Join(p.req.URLs, ", ")
		if len(p.req.Tags) > 0 {
			p.What += " and tag " + strings.Join(p.req.Tags, ", ")
		}
	}
	return out
}

// Run purges the probe's items once.
func (p Probe) Run(ctx context.Context) error {
	if p.run != nil {
		return p.run(ctx)
	}
	_, err := p.via.Purge(ctx, p.req)
	return err
}

// runProbes runs every CDN probe each probe.interval until ctx ends, first
// at once; a failure is in its targets' checks (through the calls layer)
// and in the log.
func (a *App) runProbes(ctx context.Context) {
	probes := a.Probes()
	if len(probes) == 0 || a.cfg.Probe.Disabled {
		return
	}
	t := time.NewTicker(a.cfg.Probe.Interval)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, p := range probes {
			wg.Go(func() {
				pctx, cancel := context.WithTimeout(ctx, a.cfg.Server.PurgeTimeout)
				defer cancel()
				if err := p.Run(pctx); err != nil && ctx.Err() == nil {
					a.log.Warn("probe purge failed", "backend", p.Backend, "targets", p.Targets, "err", err)
				}
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runRedisProbe proves Redis every redisInterval until ctx ends. It alone
// feeds the redis check: it reaches every primary of a Cluster, where an
// event's keys reach a few, so that one event's success on a healthy
// shard cannot hide a dead one.
func (a *App) runRedisProbe(ctx context.Context) {
	var down outage
	t := time.NewTicker(redisInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, a.cfg.Redis.PingTimeout)
		err := cache.Probe(pctx, a.redis)
		cancel()
		if ctx.Err() != nil {
			return
		}
		a.recordCall(health.BackendRedis, "", 0, 0, err)
		down.note(a.log, time.Now(), max(a.Health.Window(), outageEvery), err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// outage is the Redis probe's run of failures, logged so that the log alone
// says Redis is down for as long as it is: a line when it starts failing,
// then at most one per interval with how long and how many probes failed,
// and one when it answers again. go-redis's own lines stop once its pool
// fails fast, and a line per probe (every second) would flood.
type outage struct {
	since, next time.Time
	failures    int
}

func (o *outage) note(log *slog.Logger, now time.Time, every time.Duration, err error) {
	switch {
	case err == nil && o.failures > 0:
		log.Info("redis answers again", "failed_for", now.Sub(o.since).Round(time.Second).String(), "failed_probes", o.failures)
		*o = outage{}
	case err == nil:
	case o.failures == 0:
		*o = outage{since: now, next: now.Add(every), failures: 1}
		log.Warn("redis failing: edgepurge's Redis (REDIS_URL or redis.url) does not answer; /readyz?verbose shows it too", "err", err.Error())
	default:
		o.failures++
		if !now.Before(o.next) {
			o.next = now.Add(every)
			log.Warn("redis still failing", "failing_for", now.Sub(o.since).Round(time.Second).String(), "failed_probes", o.failures, "err", err.Error())
		}
	}
}

// outageEvery is the least time between two "still failing" lines (the
// readiness window when longer): readiness.window may be as short as 100ms.
const outageEvery = 30 * time.Second

// ProbeResult is what one target's probe showed.
type ProbeResult struct {
	// Check names the target ("cloudflare zone Z").
	Check string
	// Err is nil when the target accepted the probe purge.
	Err error
	// What the probe purged, and how long it took.
	What     string
	Duration time.Duration
}

// ProbeOnce runs every probe once, now, and says for each target whether
// it purged: edgepurge check's proof. Redis is proven by cache.Probe.
func (a *App) ProbeOnce(ctx context.Context) []ProbeResult {
	var out []ProbeResult
	for _, p := range a.Probes() {
		start := time.Now()
		run, what := p.Run, p.What
		if p.gate != nil {
			run, what = p.gate, p.gateWhat
		}
		err := run(ctx)
		d := time.Since(start)
		byTarget := map[string]health.TargetStatus{}
		for _, ts := range a.Health.Targets() {
			if ts.Backend == p.Backend {
				byTarget[ts.Target] = ts
			}
		}
		for _, target := range p.Targets {
			r := ProbeResult{Check: health.CheckName(p.Backend, target), What: what, Duration: d}
			// One of the probe's calls failing fails it, whichever
			// answered last.
			switch ts, ok := byTarget[target]; {
			case ok && !ts.LastFailure.Before(start):
				r.Err = fmt.Errorf("%s", ts.LastError)
			case ok && !ts.LastSuccess.Before(start):
			case err != nil:
				r.Err = err
			default:
				r.Err = fmt.Errorf("the probe purge never reached %s", target)
			}
			out = append(out, r)
		}
	}
	return out
}

// probeURL is the probe URL of zone: probe.path under the first host of
// the first page (by id) of that zone, else under the default rule's
// first host rendered for ProbePage, else under any configured host.
func probeURL(cfg *config.Config, zone string) string {
	return "https://" + probeHost(cfg, zone) + cfg.Probe.Path
}

func probeHost(cfg *config.Config, zone string) string {
	ids := make([]string, 0, len(cfg.Pages))
	for id := range cfg.Pages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	zoneOf := func(z string) string {
		if z == "" {
			return cfg.Cloudflare.ZoneID
		}
		return z
	}
	var fallback string
	for _, id := range ids {
		p := cfg.Pages[id]
		h := renderHost(p.Hosts, id)
		if h == "" {
			continue
		}
		if zoneOf(p.Zone) == zone {
			return h
		}
		if fallback == "" {
			fallback = h
		}
	}
	if d := cfg.Defaults; d != nil {
		if h := renderHost(d.Hosts, ProbePage); h != "" && (zoneOf(d.Zone) == zone || fallback == "") {
			return h
		}
	}
	if fallback != "" {
		return fallback
	}
	return "edgepurge-probe.invalid"
}

// renderHost renders the first host template that renders with page id
// alone.
func renderHost(hosts []string, pageID string) string {
	for _, h := range hosts {
		t, err := plan.Compile(h, "page_id")
		if err != nil {
			continue
		}
		if s, ok := t.Render(plan.Vars{PageID: pageID}); ok && s != "" {
			return strings.ToLower(s)
		}
	}
	return ""
}

// fastlyZoneOf is a zone whose purges go to service s: a key of
// fastly.services naming it, or, for the default service, a zone no
// entry names.
func fastlyZoneOf(f fastly.Config, s string) string {
	keys := make([]string, 0, len(f.Services))
	for z := range f.Services {
		keys = append(keys, z)
	}
	slices.Sort(keys)
	for _, z := range keys {
		if f.Services[z] == s {
			return z
		}
	}
	return ProbePage
}
