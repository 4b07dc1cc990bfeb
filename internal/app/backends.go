package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
	"github.com/edgepurge/edgepurge/purge/queue"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/purge/varnish"
	"github.com/edgepurge/edgepurge/purge/wrap"
)

// newBackends builds the chain: each configured CDN behind its wrappers
// (package purge/wrap), in cdn_order, and the Redis side.
func (a *App) newBackends() error {
	cfg := a.cfg
	a.trackTarget(health.BackendRedis, "")
	if cfg.Cloudflare.Enabled() {
		cc := cfg.Cloudflare
		cc.HTTPClient = cloudflareHTTPClient(a.ops.metrics)
		var err error
		if a.cf, err = cloudflare.New(cc); err != nil {
			return fmt.Errorf("cloudflare: %w", err)
		}
		layers, err := a.cloudflareLayers()
		if err != nil {
			return fmt.Errorf("cloudflare: %w", err)
		}
		layers.Calls = a.callsLayer("cloudflare", nil)
		a.addCDN(cdnBackend{name: a.cf.Name(), wrapped: wrap.Build(a.cf, layers)})
		for _, z := range cfg.CloudflareZones() {
			a.trackTarget("cloudflare", z)
		}
	}
	if cfg.Fastly.Enabled() {
		fc := cfg.Fastly
		fc.HTTPClient = fastlyHTTPClient(a.ops.metrics)
		fp, err := fastly.New(fc)
		if err != nil {
			return fmt.Errorf("fastly: %w", err)
		}
		a.fastly = fp
		layers, err := a.fastlyLayers()
		if err != nil {
			return fmt.Errorf("fastly: %w", err)
		}
		layers.Calls = a.callsLayer(config.CDNFastly, cfg.Fastly.Service)
		a.addCDN(cdnBackend{name: config.CDNFastly, wrapped: wrap.Build(fastlyServices{fp, cfg.Fastly.Service}, layers),
			queueZone: func(s string) string { return fastlyZoneOf(cfg.Fastly, s) }})
		for _, s := range cfg.Fastly.ServiceIDs() {
			a.trackTarget(config.CDNFastly, s)
		}
	}
	if cfg.Akamai.Enabled() {
		if err := a.newAkamai(); err != nil {
			return fmt.Errorf("akamai: %w", err)
		}
	}
	if cfg.CloudFront.Enabled() {
		if err := a.newCloudFront(); err != nil {
			return fmt.Errorf("cloudfront: %w", err)
		}
	}
	if cfg.Varnish.Enabled() {
		v, err := varnish.New(cfg.Varnish)
		if err != nil {
			return fmt.Errorf("varnish: %w", err)
		}
		// Varnish nodes are the operator's own, next door: no wrappers
		// but the calls layer.
		a.addCDN(cdnBackend{name: v.Name(), wrapped: wrap.Build(v, wrap.Layers{Calls: a.callsLayer(v.Name(), nil)})})
		for _, n := range cfg.Varnish.Nodes {
			u, err := varnish.ParseNode(n)
			if err != nil {
				return fmt.Errorf("varnish: %w", err)
			}
			a.varnishNodes = append(a.varnishNodes, u.String())
			a.trackTarget(v.Name(), u.String())
		}
	}
	a.Chain = chain.New(chain.Config{
		CDN:      orderCDN(a.cdnPurgers(), cfg.CDNOrder),
		Keys:     cache.NewCoalescer(a.redis),
		Timeout:  cfg.Server.PurgeTimeout,
		Observer: a.Metrics,
	})
	return nil
}

// addCDN keeps a CDN backend's wrappers, with the budget its queue spends.
func (a *App) addCDN(cs cdnBackend) {
	if l, ok := a.budgets[cs.name]; ok && cs.wrapped.Queue != nil {
		cs.limits, cs.budgeted = l, true
	}
	a.cdns = append(a.cdns, cs)
}

// cdnBudget is what differs between the CDNs' wrappers: the per-call
// limits, the account's budget and where it lives in Redis.
type cdnBudget struct {
	name            string
	breaker         breaker.Config
	maxURLsPerCall  int
	maxItemsPerCall int
	maxInflight     int
	limits          ratelimit.Limits
	// shared is off when the config turns edgepurge's own budget off.
	shared bool
	prefix string // the budget's Redis prefix
	// plans, when set, are the account's budgets per plan (Cloudflare):
	// limits are then the default plan's.
	plans *ratelimit.PlanConfig
}

// cdnLayers are a CDN purger's wrappers: the circuit breaker (unless
// disabled), then the coalescing queue with the account's shared budget
// and the escalation to covers. Every retry is counted by reason.
func (a *App) cdnLayers(b cdnBudget) (wrap.Layers, error) {
	var l wrap.Layers
	if !b.breaker.Disabled {
		l.Breaker = a.breakerConfig(b.name, b.breaker)
	}
	q := &queue.Config{
		MaxURLsPerCall:  b.maxURLsPerCall,
		MaxItemsPerCall: b.maxItemsPerCall,
		MaxInflight:     b.maxInflight,
		Observer:        a.Metrics.CDN(b.name),
		CallTimeout:     a.cfg.Server.PurgeTimeout,
		OnRetry:         a.res.metrics.Retried(b.name),
	}
	if esc := a.cfg.Cloudflare.Escalation; !esc.Disabled {
		q.Escalation = &queue.Escalation{After: esc.After, URLRate: b.limits.URLs.PerSecond(), CoverCallRate: b.limits.Calls.PerSecond()}
	}
	if b.shared {
		if err := a.budget(b, q); err != nil {
			return l, err
		}
		if a.budgets == nil {
			a.budgets = map[string]ratelimit.Limits{}
		}
		a.budgets[b.name] = b.limits
	}
	l.Queue = q
	return l, nil
}

// budget gives the queue its shared budget: one Limiter, or one per plan.
// Each tells the metrics when it falls back to its local bucket, and both
// the metrics and the log, once, when a 429 pauses a bucket for longer
// than a purge's deadline.
func (a *App) budget(b cdnBudget, q *queue.Config) error {
	setup := func(plan string, lim *ratelimit.Limiter) {
		lim.OnFallback = func(bk ratelimit.Bucket) { a.Metrics.RateLimitFallbacks.WithLabelValues(string(bk)).Inc() }
		lim.LongPause = a.cfg.Server.PurgeTimeout
		lim.OnLongPause = func(bk ratelimit.Bucket, d time.Duration) {
			a.Metrics.RateLimitLongPauses.WithLabelValues(b.name, string(bk)).Inc()
			a.log.Warn("cdn rate-limit pause longer than a purge's deadline: purges waiting on this bucket will miss it",
				"backend", b.name, "plan", plan, "bucket", string(bk), "pause", d.Round(time.Second).String(),
				"purge_timeout", a.cfg.Server.PurgeTimeout.String())
			a.showPause(b.name, plan, bk, lim)
		}
		l := lim.Limits()
		args := []any{"backend", b.name, "urls", l.URLs.String(), "calls", l.Calls.String()}
		if plan != "" {
			args = append(args, "plan", plan)
		}
		if l.Everything.Count > 0 {
			args = append(args, "everything", l.Everything.String())
		}
		if l.TagsApart() {
			args = append(args, "tags", l.Tags.String())
		}
		a.log.Info("cdn rate limits", args...)
	}
	if b.plans == nil {
		lim := ratelimit.New(a.redis, b.prefix, b.limits, a.log)
		setup("", lim)
		q.Limiter = lim
		return nil
	}
	plans, err := ratelimit.NewPlans(a.redis, *b.plans, a.log, setup)
	if err != nil {
		return fmt.Errorf("rate limits: %w", err)
	}
	q.Limiters = func(zone string) queue.Limiter { return plans.For(zone) }
	return nil
}

// showPause makes a long pause of a budget's bucket a readiness detail:
// the shared check "ratelimit <backend> [<plan>] <bucket>" fails, saying
// until when, for as long as the pause lasts (later 429s extend it). It
// never gates readiness before readiness.shared_grace: every instance of
// the account waits alike.
func (a *App) showPause(backend, plan string, bk ratelimit.Bucket, lim *ratelimit.Limiter) {
	name := strings.Join(strings.Fields("ratelimit "+backend+" "+plan+" "+string(bk)), " ")
	a.Health.Share(name)
	var check func()
	check = func() {
		until := lim.PausedUntil(bk)
		left := time.Until(until)
		if left <= 0 {
			a.Health.Set(name, 0, nil)
			return
		}
		a.Health.Set(name, 0, fmt.Errorf("the CDN paused the %s budget until %s (429): purges waiting on it miss their deadline (server.purge_timeout %s)",
			bk, until.UTC().Format(time.RFC3339), a.cfg.Server.PurgeTimeout))
		time.AfterFunc(left, check)
	}
	check()
}

// cloudflareLayers are the Cloudflare purger's wrappers: each plan's
// limits in buckets of their own (cloudflare.plan's, with cloudflare.rate_limit's
// overrides, for the zones cloudflare.zones does not give another plan).
func (a *App) cloudflareLayers() (wrap.Layers, error) {
	cf := a.cfg.Cloudflare
	budgets, err := cf.Budgets()
	if err != nil {
		return wrap.Layers{}, err
	}
	prefix := cf.RateLimitPrefix()
	return a.cdnLayers(cdnBudget{
		name: a.cf.Name(), breaker: cf.Breaker, maxURLsPerCall: cf.MaxURLsPerCall, maxItemsPerCall: cloudflare.DefaultMaxItemsPerCall,
		maxInflight: cf.MaxInflightCalls, limits: budgets[cf.Plan], shared: !cf.RateLimit.Disabled, prefix: prefix,
		plans: &ratelimit.PlanConfig{Prefix: prefix, Default: cf.Plan, Zones: cf.ZonePlans(), Limits: budgets},
	})
}

// fastlyLayers are the Fastly purger's wrappers. Fastly purges one URL per
// API call, so the queue sends URLs one to a call (several in flight): the
// budget is then counted per call, and a throttled or failed URL is
// retried alone, not with the ones that went through. Surrogate keys go
// 256 to a call; the covers are surrogate keys too. purge_all spends a
// bucket of its own, Fastly's hourly API budget
// (fastly.PurgeAllPerHour): a 429 there pauses purge_all only, until
// Fastly-RateLimit-Reset, while URL and key purges, which Fastly does not
// count, go on.
func (a *App) fastlyLayers() (wrap.Layers, error) {
	f := a.cfg.Fastly
	return a.cdnLayers(cdnBudget{
		name: config.CDNFastly, breaker: f.Breaker, maxURLsPerCall: 1, maxItemsPerCall: fastly.DefaultMaxKeysPerCall,
		maxInflight: f.MaxInflightCalls, shared: !f.RateLimit.Disabled, prefix: f.RateLimitPrefix(), limits: f.Limits(),
	})
}

// newAkamai adds Akamai's Fast Purge behind its wrappers. Fast Purge
// purges account-wide, so every request's zone becomes the network
// (akamaiNetwork, outermost): one queue and one target, "akamai
// production" or "akamai staging", whatever the pages' zones. Tags spend
// the cache-tag bucket tag by tag, as Fast Purge counts them, and pages
// are never escalated to their covers.
func (a *App) newAkamai() error {
	ac := a.cfg.Akamai
	ac.HTTPClient = akamaiHTTPClient(a.ops.metrics, ac.Network)
	estimates := a.ops.metrics.CDNCompletionEstimate.WithLabelValues(config.CDNAkamai)
	ap, err := akamai.New(ac, akamai.OnEstimate(func(d time.Duration) { estimates.Observe(d.Seconds()) }))
	if err != nil {
		return err
	}
	layers, err := a.cdnLayers(cdnBudget{
		name: config.CDNAkamai, breaker: ac.Breaker, maxURLsPerCall: ac.MaxObjectsPerCall, maxItemsPerCall: ac.MaxObjectsPerCall,
		maxInflight: ac.MaxInflightCalls, shared: !ac.RateLimit.Disabled, prefix: ac.RateLimitPrefix(), limits: ac.Limits(),
	})
	if err != nil {
		return err
	}
	if layers.Queue != nil {
		layers.Queue.TagsPerItem = true
		// The escalation weighs cover calls against URLs, where Fast Purge
		// counts a cover's tags one by one, at 500 a minute against 12,000
		// URLs: a page of 22 URLs costs about what its cover tag does, so
		// covering saves little, and the per-call model does not fit.
		// Akamai's pages stay on their URLs.
		layers.Queue.Escalation = nil
	}
	layers.Calls = a.callsLayer(config.CDNAkamai, nil)
	w := wrap.Build(ap, layers)
	w.Purger = akamaiNetwork{next: w.Purger, network: ap.Network()}
	a.addCDN(cdnBackend{name: config.CDNAkamai, wrapped: w})
	a.trackTarget(config.CDNAkamai, ap.Network())
	return nil
}

// akamaiNetwork makes every request's zone Akamai's network: the
// outermost layer of Akamai's wrappers.
type akamaiNetwork struct {
	next    purge.Purger
	network string
}

func (n akamaiNetwork) Name() string { return n.next.Name() }

func (n akamaiNetwork) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	req.Zone = n.network
	return n.next.Purge(ctx, req)
}

// akamaiHTTPClient is the Akamai purger's HTTP client: a CDN transport,
// counting the answers to purge calls under the network, without
// following redirects (a redirect would carry the signed call elsewhere).
func akamaiHTTPClient(m *metrics.Ops, network string) *http.Client {
	return akamai.NewHTTPClient(observing{next: cdnTransport(), observe: func(_ *http.Request, status int) {
		m.ObserveCDNRequest(config.CDNAkamai, network, status)
	}})
}

// fastlyServices routes a purge to the Fastly service of its zone
// (fastly.services, else fastly.service_id): the innermost layer of
// Fastly's wrappers.
type fastlyServices struct {
	next    purge.Purger
	service func(zone string) string
}

func (f fastlyServices) Name() string { return f.next.Name() }

func (f fastlyServices) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	req.Zone = f.service(req.Zone)
	return f.next.Purge(ctx, req)
}

// breakerConfig is a backend's circuit breaker, shown in the breaker
// metrics, the backends report and the log. It is not a readiness check:
// it cycles open → half-open every cooldown while the CDN fails, and its
// targets' checks (fed by every call) say whether the CDN purges.
func (a *App) breakerConfig(name string, cfg breaker.Config) *breaker.Config {
	state := a.res.metrics.BreakerState.WithLabelValues(name)
	state.Set(float64(breaker.Closed))
	for _, to := range []breaker.State{breaker.Closed, breaker.HalfOpen, breaker.Open} {
		for _, from := range []breaker.State{breaker.Closed, breaker.HalfOpen, breaker.Open} {
			if from != to {
				a.res.metrics.BreakerTransitions.WithLabelValues(name, from.String(), to.String())
			}
		}
	}
	cfg.OnChange = func(from, to breaker.State) {
		state.Set(float64(to))
		a.res.metrics.BreakerTransitions.WithLabelValues(name, from.String(), to.String()).Inc()
		if to == breaker.Open {
			a.log.Warn("circuit breaker open: purges fail fast", "backend", name, "from", from.String(), "cooldown", cfg.Cooldown.String(),
				"failures", cfg.Failures)
		} else {
			a.log.Info("circuit breaker "+to.String(), "backend", name, "from", from.String())
		}
	}
	return &cfg
}

// orderCDN sorts the CDN purgers by order (names; inner caches first), the
// ones it does not name last, in their given order.
func orderCDN(cdn []purge.Purger, order []string) []purge.Purger {
	out := slices.Clone(cdn)
	rank := func(p purge.Purger) int {
		if i := slices.Index(order, p.Name()); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b purge.Purger) int { return rank(a) - rank(b) })
	return out
}

// fastlyHTTPClient is the Fastly purger's HTTP client: its own transport
// settings (no redirects: a redirect could carry the Fastly-Key header to
// another host), counting the answers to purge calls by service and
// status.
func fastlyHTTPClient(m *metrics.Ops) *http.Client {
	return &http.Client{
		Timeout: fastly.DefaultTimeout,
		Transport: observing{next: cdnTransport(), observe: func(r *http.Request, status int) {
			m.ObserveCDNRequest(config.CDNFastly, fastlyService(r.URL.Path), status)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// fastlyService is the service of an API path (/service/{id}/...), or
// "url" for a URL purge, which names none.
func fastlyService(path string) string {
	if rest, ok := strings.CutPrefix(path, "/service/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return id
	}
	return "url"
}

// observing is an http.RoundTripper that reports each purge call's status
// (0 when no answer arrived).
type observing struct {
	next    http.RoundTripper
	observe func(r *http.Request, status int)
}

func (o observing) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(r)
	if r.Method == http.MethodPost {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		o.observe(r, status)
	}
	return resp, err
}

// cloudflareHTTPClient is the Cloudflare purger's HTTP client: a CDN
// transport (cdnTransport), counting the answers to purge calls by zone
// and status.
func cloudflareHTTPClient(m *metrics.Ops) *http.Client {
	return &http.Client{Transport: cloudflare.ObservingTransport(cdnTransport(), func(zone string, status int) {
		m.ObserveCDNRequest("cloudflare", zone, status)
	})}
}

// cdnIdleConnsPerHost is how many idle connections a CDN client keeps to
// its API's host. Every call of every zone (or service) and kind goes to
// that one host, up to max_inflight_calls of each at once; Go's default of
// 2 closed the others after each call, so that a storm dialled (and, at
// the real CDN, shook hands over TLS) again for most calls.
const cdnIdleConnsPerHost = 128

// cdnTransport is a CDN client's transport: Go's default one, keeping
// cdnIdleConnsPerHost idle connections. Idle ones still close after 90 s.
func cdnTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, cdnIdleConnsPerHost)
	t.MaxIdleConnsPerHost = cdnIdleConnsPerHost
	return t
}
