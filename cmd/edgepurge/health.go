package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/client"
	"github.com/edgepurge/edgepurge/internal/config"
)

func newHealth(g *globalFlags) *cobra.Command {
	var url, server, path string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when the local server answers 200 on --path (for HEALTHCHECK)",
		Long: `Probe the server this configuration runs: GET http://<listen address><path>,
exit 0 on 200, 1 otherwise. The address is the one ` + "`edgepurge serve`" + ` listens on with
the same configuration: EDGEPURGE_LISTEN, else the config file's listen (--config or
$EDGEPURGE_CONFIG), else ` + config.DefaultListen + `; an unspecified host (":8080",
"0.0.0.0:8080", "[::]:8080") is probed on 127.0.0.1. So a container's HEALTHCHECK
needs no port written into it. --server probes --path on another server;
--url probes any URL instead.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target := url
			if u, err := neturl.Parse(url); url != "" && err == nil && strings.Trim(u.Path, "/") == "" {
				return &exitError{code: 1, err: fmt.Errorf("--url %[1]s has no path: give the endpoint too, e.g. %[1]s/readyz (readiness) or /healthz (liveness), or use --server %[1]s", strings.TrimRight(u.Redacted(), "/"))}
			}
			if server != "" && target == "" {
				target = strings.TrimRight(server, "/") + path
			}
			hint := ""
			if target == "" {
				listen, err := listenAddress(g.configPath(), os.Getenv)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				target = "http://" + probeHost(listen) + path
				hint = "; is edgepurge serve running there? The address is EDGEPURGE_LISTEN, else the config's listen, else " + config.DefaultListen + "; or give --server URL"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if err := client.Ready(ctx, &http.Client{}, target); err != nil {
				if ne := net.Error(nil); !errors.As(err, &ne) {
					hint = "" // it answered: the address is right
				}
				return &exitError{code: 1, err: fmt.Errorf("%w%s", err, hint)}
			}
			cmd.Println("ok", target)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "/readyz", "path to probe on the configured listen address: /readyz (readiness) or /healthz (liveness)")
	cmd.Flags().StringVar(&server, "server", "", "edgepurge server URL, e.g. http://127.0.0.1:8080: probe --path there instead of on the configured listen address")
	cmd.Flags().StringVar(&url, "url", "", "probe this full URL (with its path, e.g. http://127.0.0.1:8080/readyz) instead of the configured listen address and --path")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// listenAddress is the address `edgepurge serve` listens on with the same
// configuration: EDGEPURGE_LISTEN, else the file's listen, else the
// default (config.Load's precedence; a test keeps them equal). The file
// must parse as strictly as serve parses it, but only listen is expanded
// and used: secrets the rest refers to need not be set in the probe's
// environment, nor need the rest validate.
func listenAddress(path string, getenv config.Getenv) (string, error) {
	if v := strings.TrimSpace(getenv("EDGEPURGE_LISTEN")); v != "" {
		return v, nil
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read config: %w", err)
		}
		// The whole file, as strictly as serve reads it (an unknown key
		// fails), unset variables given a placeholder: a secret the
		// probe's environment lacks does not matter here.
		var whole config.Config
		if err := config.Parse(raw, func(k string) string {
			if v := getenv(k); v != "" {
				return v
			}
			return "unset"
		}, &whole); err != nil {
			return "", fmt.Errorf("config %s: %w", path, err)
		}
		// Then listen alone, expanded as serve expands it.
		var top map[string]any
		if err := yaml.Unmarshal(raw, &top); err != nil {
			return "", fmt.Errorf("config %s: %w", path, err)
		}
		if v, ok := top["listen"]; ok {
			only, err := yaml.Marshal(map[string]any{"listen": v})
			if err != nil {
				return "", err
			}
			var cfg config.Config
			if err := config.Parse(only, getenv, &cfg); err != nil {
				return "", fmt.Errorf("config %s: listen: %w", path, err)
			}
			if cfg.Listen != "" {
				return cfg.Listen, nil
			}
		}
	}
	return config.DefaultListen, nil
}

// probeHost is the host:port to reach a server listening on listen: the
// loopback address when the host is unspecified.
func probeHost(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen // not host:port; let the request say what is wrong
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
