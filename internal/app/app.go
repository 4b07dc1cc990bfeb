// Package app wires edgepurge's parts together from a config: the Redis
// client, the purgers, the planner, the chain, the health probes and the
// HTTP server. cmd/edgepurge only parses flags and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/dedupe"
	"github.com/edgepurge/edgepurge/internal/edgecheck"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/history"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/registry"
	"github.com/edgepurge/edgepurge/internal/server"
	"github.com/edgepurge/edgepurge/internal/tracing"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/cloudfront"
	"github.com/edgepurge/edgepurge/purge/fastly"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// Build identifies the binary.
type Build struct {
	Version, Commit string
}

// App is a configured edgepurge: everything serve needs.
type App struct {
	cfg    *config.Config
	ops    ops
	log    *slog.Logger
	redis  redis.UniversalClient
	cf     *cloudflare.Purger // nil when Cloudflare is off
	fastly *fastly.Purger     // nil when Fastly is off
	// cloudfront is nil when CloudFront is off.
	cloudfront *cloudfront.Purger
	// cdns are the CDN backends as built, in configuration order;
	// budgets their shared rate budgets by name; varnishNodes the Varnish
	// nodes' names.
	cdns           []cdnBackend
	budgets        map[string]ratelimit.Limits
	varnishNodes   []string
	backendMetrics *metrics.Backends
	res            resilience       // retry and breaker metrics, the shutdown cut-off
	jrnl           journalParts     // the re-drive journal
	history        *history.History // the recent purges, for the console's charts
	pageCache      *registry.Cache  // the registry look-ups; nil when registry.disabled
	tracer         *tracing.Tracer  // nil: tracing off
	Planner        *plan.Planner
	Chain          *chain.Chain
	// Pipeline is the life of every purge (hooks, manual, canary, re-drive).
	Pipeline *pipeline.Pipeline
	Health   *health.Checker
	Metrics  *metrics.Metrics
	Server   *server.Server
}

// PlanRules are the planner's rules in cfg: the pages, the zone of those
// that name none (cloudflare.zone_id), and what the configured CDNs need
// of a plan (Fastly's soft purge; Fastly and Akamai purge no hosts or
// prefixes).
func PlanRules(cfg *config.Config) plan.Rules {
	r := plan.Rules{
		Pages: cfg.Pages, Defaults: cfg.Defaults, Zone: cfg.Cloudflare.ZoneID, MaxURLs: cfg.Limits.MaxPlanURLs,
		Reserved: cfg.ReservedKeyPrefixes(), SoftPurge: cfg.Fastly.SoftPurge,
	}
	var noHosts []string
	if cfg.Fastly.Enabled() {
		noHosts = append(noHosts, config.CDNFastly)
	}
	if cfg.Akamai.Enabled() {
		noHosts = append(noHosts, config.CDNAkamai)
		r.NoEverything = config.CDNAkamai
	}
	r.NoHostPurges = strings.Join(noHosts, " and ")
	if cfg.CloudFront.Enabled() {
		r.NoTagPurges = config.CDNCloudFront
		r.HostPurge = cfg.CloudFront.HostPurge
	}
	return r
}

// New builds an App from cfg. It does no I/O: dependencies are probed by
// Run, in the background, and readiness says how that goes.
func New(cfg *config.Config, log *slog.Logger, build Build) (*App, error) {
	a := &App{cfg: cfg, log: log}
	var err error
	if a.redis, err = cache.NewClient(cfg.Redis); err != nil {
		return nil, err
	}
	if a.tracer, err = newTracing(cfg, build); err != nil {
		return nil, err
	}
	if err := a.instrumentRedis(); err != nil {
		return nil, err
	}
	a.Metrics = metrics.New(build.Version, build.Commit)
	a.history = history.New(history.DefaultSlot, history.DefaultWindow)
	a.ops.metrics = metrics.NewOps(a.Metrics.Registry)
	a.res = newResilience(a.Metrics)
	a.Health = health.New(nil)
	a.Health.Set("config", 0, nil)
	a.Health.SetSharedGrace(cfg.Readiness.SharedGrace)
	a.Health.SetWindow(cfg.Readiness.Window)
	a.Metrics.Registry.MustRegister(metrics.NewReadyCollector(a.readiness))
	a.backendMetrics = metrics.NewBackends(a.Metrics.Registry)

	// The per-event look-ups (registry, duplicate check) are single-key
	// commands from many concurrent requests: go-redis's auto-pipeliner
	// sends them together, sharing round trips and syscalls (measured: 14 %
	// less server time per event on the hot path; see docs/performance.md).
	// Its deferred face, so that each look-up waits no longer than its
	// context (rediscmd.Do): the blocking face ignores a queued command's
	// deadline. Batched as the blocking face batches (up to 300 commands).
	perEvent, err := a.redis.AsyncAutoPipelineWithOptions(redis.DefaultBlockingAutoPipelineOptions())
	if err != nil {
		return nil, fmt.Errorf("redis auto-pipeline: %w", err)
	}
	var reg plan.Registry
	if !cfg.Registry.Disabled {
		a.pageCache = registry.NewCache(registry.New(perEvent, cfg.Registry.Prefix), cfg.Registry.CacheTTL)
		reg = registryLookup{a.pageCache}
	}
	if a.Planner, err = plan.New(PlanRules(cfg), reg, log); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}

	if err := a.newBackends(); err != nil {
		return nil, err
	}
	a.initMetrics()
	a.newAudit()
	a.newJournal()
	var signatures server.SignatureVerifier
	if len(cfg.Auth.WebhookSecrets) > 0 {
		secrets := make([]string, len(cfg.Auth.WebhookSecrets))
		for i, s := range cfg.Auth.WebhookSecrets {
			secrets[i] = s.Value()
		}
		v, err := webhook.NewVerifier(secrets, 0)
		if err != nil {
			return nil, fmt.Errorf("auth.webhook_secrets: %w", err)
		}
		signatures = v
	}
	var dd pipeline.Deduper
	if !cfg.Dedupe.Disabled {
		dd = dedupe.New(perEvent, cfg.Dedupe.Prefix, cfg.Dedupe.TTL)
	}
	pc := a.pipelineConfig()
	pc.Dedupe, pc.Journal = dd, a.journaler()
	a.Pipeline = pipeline.New(pc)
	a.newCanary()
	a.Server = server.New(server.Config{
		Pipeline:        a.Pipeline,
		Context:         a.res.cutoff,
		Purges:          a.purgeLister(),
		Journal:         a.journalAdmin(),
		ReplayTimeout:   cfg.Server.RequestTimeout,
		Stats:           a.history,
		Signatures:      signatures,
		StatuspageToken: cfg.Auth.StatuspageToken.Value(),
		APIToken:        cfg.Auth.APIToken.Value(),
		Health:          a.Health,
		Backends:        a.backendsReport,
		Pages:           a.pagesAPI(),
		Metrics:         a.Metrics,
		Log:             log,
		Version:         build.Version,
		ReadTimeout:     cfg.Server.ReadTimeout,
		WriteTimeout:    cfg.Server.WriteTimeout,
		IdleTimeout:     cfg.Server.IdleTimeout,
		MaxBodyBytes:    cfg.Server.MaxBodyBytes,
	})
	return a, nil
}

// Close exports the last spans and releases the Redis client.
func (a *App) Close() error {
	a.closeTracing()
	if a.cloudfront != nil {
		a.cloudfront.Close()
	}
	return a.redis.Close()
}

// Run serves on ln and probes the dependencies until ctx ends (SIGTERM),
// then drains: readiness fails at once, the listener closes after the drain
// delay (so the load balancer stops routing first), in-flight requests
// finish within the shutdown timeout — purges still running shortly before
// it are cut short so that they are answered — then the probes stop and
// the audit writer writes what it holds.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	a.warnStartup()
	defer a.startAdmin()()
	defer a.startOps()()
	// Stopped before the audit writer (which writes its re-drive records)
	// and after the server has drained.
	defer a.startJournal()()
	var probes sync.WaitGroup
	defer probes.Wait()
	probeCtx, stopProbes := context.WithCancel(context.Background())
	defer stopProbes()
	probes.Go(func() { a.runRedisProbe(probeCtx) })
	probes.Go(func() { a.runProbes(probeCtx) })
	for _, p := range a.opsProbes() {
		probes.Go(func() { a.Health.Run(probeCtx, p) })
	}

	served := make(chan error, 1)
	go func() { served <- a.Server.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "dry_run", a.cfg.DryRun, "tracing", a.tracer != nil)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Health.Drain()
	a.Server.Drain()
	a.log.Info("draining: readiness now fails; a second SIGINT or SIGTERM stops at once", "drain_delay", a.cfg.Server.DrainDelay.String())
	time.Sleep(a.cfg.Server.DrainDelay)

	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
	defer cancel()
	defer a.cutPurgesBefore(a.cfg.Server.ShutdownTimeout)()
	err := a.Server.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Error("shutdown timeout: some requests were still in flight", "timeout", a.cfg.Server.ShutdownTimeout.String())
	}
	<-served
	a.log.Info("stopped")
	return err
}

func (a *App) warnStartup() {
	if a.cfg.DryRun {
		a.log.Warn("DRY RUN: edgepurge plans and answers but PURGES NOTHING (EDGEPURGE_DRY_RUN=true)")
	}
	if len(a.cfg.Auth.WebhookSecrets) == 0 {
		a.log.Warn("no webhook secrets: POST /v1/hooks/events answers 401 to everything (set EDGEPURGE_WEBHOOK_SECRETS)")
	}
	if a.cfg.Auth.StatuspageToken == "" {
		a.log.Warn("no Statuspage token: POST /v1/hooks/statuspage/{token} answers 401 (set EDGEPURGE_STATUSPAGE_TOKEN)")
	}
	if a.cfg.Auth.APIToken == "" {
		a.log.Warn("no API token: POST /v1/purge answers 401 (set EDGEPURGE_API_TOKEN)")
	}
}

// registryLookup adapts registry.Registry to plan.Registry.
type registryLookup struct{ r *registry.Cache }

func (l registryLookup) Lookup(ctx context.Context, pageID string) ([]string, string, bool, error) {
	p, found, err := l.r.Lookup(ctx, pageID)
	return p.Hosts, p.Zone, found, err
}

// pipelineConfig is the life of a purge on this App's parts, without a
// duplicate check or a journal.
func (a *App) pipelineConfig() pipeline.Config {
	c := pipeline.Config{
		Planner:      a.Planner,
		Purger:       edgecheck.New(edgecheck.Config{Purger: a.Chain, Observer: a.Metrics}),
		DryRun:       a.cfg.DryRun,
		Deadline:     a.cfg.Server.RequestTimeout,
		PurgeTimeout: a.cfg.Server.PurgeTimeout,
		KeysBackend:  a.Chain.KeysBackend(),
		Tracer:       a.tracer,
		Metrics:      a.Metrics,
		History:      a.history,
		Log:          a.log,
	}
	if a.ops.audit != nil {
		c.Audit = a.ops.audit
	}
	return c
}
