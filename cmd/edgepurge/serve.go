package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"

	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/logging"
)

func newServe(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the hooks, the manual purge API, the probes and /metrics",
		Long: `Serve edgepurge's HTTP API. Configuration comes from --config (or
$EDGEPURGE_CONFIG) and the environment (REDIS_URL, CLOUDFLARE_API_TOKEN,
CLOUDFLARE_ZONE_ID, EDGEPURGE_HOSTS, EDGEPURGE_WEBHOOK_SECRETS, ...: each is
listed in docs/configuration.md).
On SIGTERM or SIGINT, readiness fails at once, then the server drains; a
second signal ends the process at once (exit 1), skipping the drain.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			// Every event logs a line: many requests' lines are written
			// together, not one write(2) each (see logging.Writer).
			lw := logging.NewWriter(os.Stderr, 0)
			defer lw.Close()
			log := app.NewLogger(cfg.Log, lw)
			redis.SetLogger(app.NewRedisLogger(log))
			otel.SetErrorHandler(app.NewOTelErrorHandler(log))
			a, err := app.New(cfg, log, app.Build{Version: version, Commit: commit})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer a.Close()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("listen on %s: %w", cfg.Listen, err)}
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
			go func() {
				<-sigs
				stop()
				// A second signal means the person will not wait for the
				// drain: the senders of requests cut short retry them.
				s := <-sigs
				log.Error("second signal: stopping at once, the drain skipped; requests in flight are cut off unanswered", "signal", s.String())
				lw.Close()
				os.Exit(1)
			}()
			if path := os.Getenv("EDGEPURGE_CPUPROFILE"); path != "" {
				// For `make bench` profiling: the server's own CPU profile,
				// written when it exits.
				stopProfile, err := startCPUProfile(path)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				defer stopProfile()
			}
			if err := a.Run(ctx, ln); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
}

// load reads the config and applies the logging flags.
func (g *globalFlags) load() (*config.Config, error) { return g.loadEnv(os.Getenv) }

func (g *globalFlags) loadEnv(getenv config.Getenv) (*config.Config, error) {
	cfg, err := config.Load(g.configPath(), getenv)
	if err != nil {
		return nil, err
	}
	if g.logFormat != "" {
		cfg.Log.Format = g.logFormat
	}
	if g.logLevel != "" {
		cfg.Log.Level = g.logLevel
	}
	return cfg, cfg.Validate()
}

// startCPUProfile writes a CPU profile to path until the returned func runs.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
