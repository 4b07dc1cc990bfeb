package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/client"
	"github.com/edgepurge/edgepurge/internal/event"
)

func newPurge(g *globalFlags) *cobra.Command {
	var (
		server, token string
		req           event.ManualRequest
		asJSON        bool
		direct        bool
		timeout       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Purge a page, URLs, tags, prefixes, hosts, keys or a whole zone by hand",
		Long: `Purge by hand through a running edgepurge (POST /v1/purge).

The bearer token is --token, else $EDGEPURGE_API_TOKEN. Exit status: 0 when
everything was purged (or dry-ran), 1 when anything failed or the server
refused the purge (nothing purged), 2 when the request could not be made.

With --direct, no server is involved: the purge is planned and sent from this
process, from the config (--config or $EDGEPURGE_CONFIG and the environment),
for when edgepurge itself is down.`,
		Example: `  edgepurge purge --server http://127.0.0.1:8080 --page p0
  edgepurge purge --url https://p0.status.example.com/ --tag page:p0 --json
  edgepurge purge --page p0 --incident inc1 --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, from := apiToken(token)
			if _, err := req.Event("cli"); err != nil {
				return &exitError{code: 2, err: inFlags(err)}
			}
			if direct {
				return purgeDirect(cmd, g, req, asJSON, timeout)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c := client.New(server, token, &http.Client{})
			c.TokenFrom = from
			resp, err := c.Purge(ctx, req)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON: // the server's answer in its own key order
				var pretty bytes.Buffer
				_ = json.Indent(&pretty, resp.Raw, "", "  ") // Purge made sure it is JSON
				fmt.Fprintln(out, pretty.String())
			case resp.Answer != nil:
				client.WriteTable(out, resp.Answer)
			default:
				// An answer without a purge result is a refusal before
				// anything was purged; it goes to stderr, as errors do.
				return &exitError{code: 1, err: fmt.Errorf("HTTP %d: %s; nothing purged", resp.StatusCode, resp.Error)}
			}
			if !resp.OK() {
				return &exitError{code: 1, err: fmt.Errorf("purge not complete (HTTP %d)", resp.StatusCode)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "edgepurge server URL")
	f.StringVar(&token, "token", "", "bearer token (default: $EDGEPURGE_API_TOKEN)")
	f.StringVar(&req.PageID, "page", "", "status page id: purge every public URL of the page")
	f.StringVar(&req.IncidentID, "incident", "", "incident id (with --page)")
	f.StringSliceVar(&req.ComponentIDs, "component", nil, "component id (with --page; repeatable)")
	f.StringArrayVar(&req.URLs, "url", nil, "absolute URL (repeatable)")
	f.StringArrayVar(&req.Tags, "tag", nil, "cache tag (repeatable)")
	f.StringArrayVar(&req.Prefixes, "prefix", nil, "URL prefix without scheme, e.g. p0.status.example.com/api/ (repeatable)")
	f.StringArrayVar(&req.Hosts, "host", nil, "hostname: purge everything under it (repeatable)")
	f.StringArrayVar(&req.Keys, "key", nil, "Redis key (repeatable)")
	f.BoolVar(&req.Everything, "everything", false, "purge the whole zone")
	f.BoolVar(&req.DryRun, "dry-run", false, "plan and answer, purge nothing")
	f.BoolVar(&asJSON, "json", false, "print the server's JSON answer")
	f.BoolVar(&direct, "direct", false, "break glass: purge in-process from --config, without a running server (same planner, purgers and shared rate limits)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	return cmd
}

// flagOf is the purge flag of each field of the request, so that a refused
// request names what the person typed, not the API's JSON.
var flagOf = map[string]string{"page_id": "--page", "incident_id": "--incident", "component_ids": "--component",
	"urls": "--url", "tags": "--tag", "prefixes": "--prefix", "hosts": "--host", "keys": "--key", "everything": "--everything"}

func inFlags(err error) error {
	var fe *event.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	if strings.HasPrefix(fe.Reason, "nothing to purge") {
		return errors.New("nothing to purge: give --page, --url, --tag, --prefix, --host, --key or --everything")
	}
	field, index, _ := strings.Cut(fe.Field, "[")
	if f, ok := flagOf[field]; ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(index, "]")); err == nil {
			f = fmt.Sprintf("%s #%d", f, n+1)
		}
		return fmt.Errorf("%s: %s", f, fe.Reason)
	}
	return err
}

// apiToken is the bearer token, --token (flag) else $EDGEPURGE_API_TOKEN,
// and the name of the one it came from.
func apiToken(flag string) (token, from string) {
	if flag != "" {
		return flag, "--token"
	}
	return os.Getenv("EDGEPURGE_API_TOKEN"), "EDGEPURGE_API_TOKEN"
}
