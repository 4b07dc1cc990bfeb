package app

import (
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/server"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/retry"
	"github.com/edgepurge/edgepurge/purge/wrap"
)

// cdnBackend is one CDN backend as built: its wrappers, its budget and
// its targets (zones, services or nodes).
type cdnBackend struct {
	name    string
	wrapped wrap.Wrapped
	// limits is the account's budget as edgepurge spends it; budgeted is
	// false when edgepurge keeps none (the CDN still limits).
	limits   ratelimit.Limits
	budgeted bool
	// queueZone is the queue's zone of a target (Fastly: a zone of the
	// service); nil: the target is the zone.
	queueZone func(target string) string
}

// trackTarget declares a backend's target at start: its readiness check
// (failing as "not checked yet" until a probe has called it, when probes
// run) and its metric series at 0.
func (a *App) trackTarget(backend, target string) {
	a.Health.Track(backend, target, a.probing(backend))
	a.backendMetrics.Target(backend, target)
}

// probing reports whether a probe proves backend's targets.
func (a *App) probing(backend string) bool {
	if backend == health.BackendRedis {
		return true
	}
	return !a.cfg.Probe.Disabled && !a.cfg.DryRun
}

// recordCall records one call to a backend's target, events and probes
// alike: its readiness check and the metrics. urls and flex are what it
// spent of the URL and call budgets.
func (a *App) recordCall(backend, target string, urls, flex int, err error) {
	a.Health.Track(backend, target, false).Call(err, urls, flex)
	a.backendMetrics.Call(backend, target, err == nil, time.Now())
}

// callsLayer is a CDN stack's calls layer (wrap.Layers.Calls): each call
// that reached the CDN, recorded under its target; targetOf maps the
// request's zone to it (Fastly: the service), nil when the zone is the
// target.
//
// Fastly purges a URL without naming a service (POST /purge/{url}): such a
// call that succeeds proves nothing about the service of the page, and is
// not recorded under it (an unknown service would look healthy); one that
// fails (a token without purge_select) is evidence against it and is.
func (a *App) callsLayer(backend string, targetOf func(zone string) string) func(string, purge.Request, error) {
	return func(target string, req purge.Request, err error) {
		if targetOf != nil {
			target = targetOf(target)
		}
		if backend == config.CDNFastly && err == nil && len(req.URLs) == req.Items() {
			return
		}
		urls, flex := len(req.URLs), 0
		if req.Items() > urls {
			flex = 1
		}
		if backend == config.CDNAkamai {
			// Fast Purge spends a token per cache tag, not per call.
			flex = len(req.Tags)
		}
		a.recordCall(backend, target, urls, flex, err)
	}
}

// readiness is the readiness report as edgepurge_ready's checks
// ("draining" among them once SIGTERM came).
func (a *App) readiness() []metrics.Check {
	_, st := a.Health.Report()
	out := make([]metrics.Check, 0, len(st))
	for _, s := range st {
		out = append(out, metrics.Check{Name: s.Name, OK: s.OK})
	}
	return out
}

// backendsReport is GET /v1/backends: every target's record, with its
// backend's breaker, queue and budget as this instance sees them.
func (a *App) backendsReport() server.BackendsReport {
	window := a.Health.Window()
	rep := server.BackendsReport{DryRun: a.cfg.DryRun, WindowSeconds: window.Seconds(), Backends: []server.BackendStatus{}}
	targets := a.Health.Targets()
	order := append([]string{health.BackendRedis}, a.cdnOrder()...)
	slices.SortStableFunc(targets, func(x, y health.TargetStatus) int {
		return slices.Index(order, x.Backend) - slices.Index(order, y.Backend)
	})
	for _, t := range targets {
		b := server.BackendStatus{
			Backend: t.Backend, Target: t.Target, Check: t.Check, State: string(t.State),
			LastSuccess: t.LastSuccess, LastFailure: t.LastFailure, FailingSince: t.FailingSince,
			Error: t.Error, Failures5m: t.Failures, Calls5m: t.Calls,
		}
		if cs := a.cdnOf(t.Backend); cs != nil {
			if cs.wrapped.Breaker != nil {
				b.Breaker = cs.wrapped.Breaker.State().String()
			}
			if cs.wrapped.Queue != nil {
				zone := t.Target
				if cs.queueZone != nil {
					zone = cs.queueZone(t.Target)
				}
				b.QueueDepth = cs.wrapped.Queue.Pending(zone)
			}
			if t.Backend == config.CDNCloudFront && a.cloudfront != nil {
				b.Invalidations = a.cloudfront.InProgress(t.Target)
			}
			if cs.budgeted {
				b.Budget = []server.Budget{
					{Bucket: string(ratelimit.URLs), Used1m: t.URLs, Limit1m: perMinute(cs.limits.URLs)},
					{Bucket: string(ratelimit.Calls), Used1m: t.Flex, Limit1m: perMinute(cs.limits.Calls)},
				}
				if cs.limits.TagsApart() {
					// Akamai: the second budget is its cache tags', tag by tag.
					b.Budget[1] = server.Budget{Bucket: string(ratelimit.Tags), Used1m: t.Flex, Limit1m: perMinute(cs.limits.Tags)}
				}
			}
		}
		rep.Backends = append(rep.Backends, b)
	}
	return rep
}

// perMinute is a rate's sustained count a minute.
func perMinute(r ratelimit.Rate) int {
	if r.Period <= 0 {
		return 0
	}
	return int(r.PerSecond() * 60)
}

// cdnOf is backend as built, nil for Redis.
func (a *App) cdnOf(backend string) *cdnBackend {
	for i := range a.cdns {
		if a.cdns[i].name == backend {
			return &a.cdns[i]
		}
	}
	return nil
}

// cdnOrder is the CDN backends' names in purge order.
func (a *App) cdnOrder() []string {
	out := make([]string, 0, len(a.cdns))
	for _, p := range orderCDN(a.cdnPurgers(), a.cfg.CDNOrder) {
		out = append(out, p.Name())
	}
	return out
}

func (a *App) cdnPurgers() []purge.Purger {
	out := make([]purge.Purger, len(a.cdns))
	for i, s := range a.cdns {
		out[i] = s.wrapped.Purger
	}
	return out
}

// initMetrics sets to 0 every series whose labels are known at start (see
// metrics.Metrics.Init), the retries' too.
func (a *App) initMetrics() {
	cdns := a.cdnOrder()
	a.Metrics.Init(
		[]string{string(event.SourceHook), string(event.SourceStatuspage), string(event.SourceManual)},
		[]string{chain.StatusPurged, chain.StatusPartial, chain.StatusFailed, chain.StatusDuplicate,
			chain.StatusDryRun, chain.StatusStale, chain.StatusJournaled},
		cdns)
	for _, b := range cdns {
		for _, reason := range []string{retry.ReasonThrottled, retry.ReasonServer, retry.ReasonTimeout, retry.ReasonNetwork, retry.ReasonOther} {
			a.res.metrics.CDNRetries.WithLabelValues(b, reason)
		}
	}
}
