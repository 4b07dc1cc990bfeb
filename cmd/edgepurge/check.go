package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/preflight"
)

func newCheck(g *globalFlags) *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Deploy gate: validate the config and prove every backend can purge, by purging",
		Long: `Load the config exactly as serve does, validate it (every page's templates
render, hosts are hostnames, zones are set, secrets are well-formed), then
prove each backend by doing its work: Redis answers PING and unlinks
edgepurge:probe; every Cloudflare zone, Fastly service, Akamai network
and Varnish node purges the probe URL and tag (probe.path, probe.tag)
through the clients serve uses (Akamai invalidates them: Fast Purge has no
read-only call to prove its credentials). The token verify and the zone and service reads follow as
detail: one the token has no permission for is skipped (–), never a
failure, since a purge-only token is what least privilege asks for.
One line per check, ✓, ! (passed, but look: a token not set, a dry run),
– or ✗ with the reason and the fix; secrets are never printed. Exit status: 0 when every check passed, 1 otherwise.`,
		Example: `  edgepurge check --config /etc/edgepurge.yaml
  edgepurge check --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The redis check's line gives the reason; go-redis's own
			// dial-failure lines would only repeat it.
			redis.SetLogger(app.NewRedisLogger(slog.New(slog.DiscardHandler)))
			cfg, err := g.load()
			var rep preflight.Report
			if err != nil {
				rep = preflight.ConfigFailed(err, os.Getenv("CLOUDFLARE_API_TOKEN"), os.Getenv("EDGEPURGE_API_TOKEN"), os.Getenv("EDGEPURGE_STATUSPAGE_TOKEN"),
					os.Getenv("AKAMAI_CLIENT_SECRET"), os.Getenv("AKAMAI_ACCESS_TOKEN"))
			} else {
				rep = preflight.Run(cmd.Context(), cfg, preflight.Serve{Rules: app.PlanRules(cfg), Probe: probeOnce(cfg)}, timeout)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := rep.WriteJSON(out); err != nil {
					return &exitError{code: 1, err: err}
				}
			} else {
				rep.WriteText(out)
			}
			if !rep.OK {
				return &exitError{code: 1, err: errors.New("checks failed")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", preflight.DefaultTimeout, "bound of each check that does I/O")
	return cmd
}

// probeOnce builds the app from cfg as serve does and purges each CDN
// target's probe once, for check.
func probeOnce(cfg *config.Config) func(context.Context) ([]preflight.Probed, error) {
	return func(ctx context.Context) ([]preflight.Probed, error) {
		a, err := app.New(cfg, slog.New(slog.DiscardHandler), app.Build{Version: "check"})
		if err != nil {
			return nil, err
		}
		defer a.Close()
		var out []preflight.Probed
		for _, r := range a.ProbeOnce(ctx) {
			out = append(out, preflight.Probed{Check: r.Check, What: r.What, Duration: r.Duration, Err: r.Err})
		}
		return out, nil
	}
}
