package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/client"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// pagesFlags are the flags every pages command shares.
type pagesFlags struct {
	server, token string
	asJSON        bool
	timeout       time.Duration
}

func (p *pagesFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.server, "server", "http://127.0.0.1:8080", "edgepurge server URL")
	f.StringVar(&p.token, "token", "", "bearer token (default: $EDGEPURGE_API_TOKEN)")
	f.BoolVar(&p.asJSON, "json", false, "print the server's answer as JSON")
	f.DurationVar(&p.timeout, "timeout", 10*time.Second, "give up after this long")
}

func (p *pagesFlags) client() *client.Client {
	token, from := apiToken(p.token)
	c := client.New(p.server, token, &http.Client{Timeout: p.timeout})
	c.TokenFrom = from
	return c
}

const pagesExit = `Exit status: 0 when done, 1 when the server refused (an invalid entry, a
page of the config file, a version conflict, an unknown page), 2 when the
request could not be made or the command line is wrong.`

func newPages() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pages",
		Short: "Read and write the pages' hostnames and zone (the page registry, /v1/pages)",
		Long: `Read and write the page registry of a running edgepurge (/v1/pages): a page's
hostnames (custom domains) and CDN zone, checked as planning uses them before
anything is stored, and the plan an incident update would make. Every
instance sees a change within registry.cache_ttl.

The bearer token is --token, else $EDGEPURGE_API_TOKEN.

` + pagesExit,
		Args: noArgs,
	}
	cmd.AddCommand(newPagesGet(), newPagesSet(), newPagesDelete(), newPagesList())
	return cmd
}

// onePage takes exactly the PAGE_ID argument.
func onePage(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return &exitError{code: 2, err: fmt.Errorf("%s takes one argument, the PAGE_ID (got %d); see %s --help", cmd.CommandPath(), len(args), cmd.CommandPath())}
	}
	return nil
}

func newPagesGet() *cobra.Command {
	var (
		p        pagesFlags
		incident string
	)
	cmd := &cobra.Command{
		Use:   "get PAGE_ID",
		Short: "Show a page's hostnames, where they come from and the plan of an incident update",
		Long: `Show a page: its hostnames and zone, where they come from (config, registry or
the default rule), its ETag, a problem that makes planning refuse it, the plan an
incident.updated event would make (GET /v1/pages/{page_id}) and its last changes.

` + pagesExit,
		Example: `  edgepurge pages get p0
  edgepurge pages get p0 --incident inc1 --json`,
		Args: onePage,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			v, err := p.client().Page(ctx, args[0], incident)
			if err != nil {
				return pagesError(err)
			}
			if p.asJSON {
				return printJSON(cmd.OutOrStdout(), v)
			}
			writePage(cmd.OutOrStdout(), v)
			return nil
		},
	}
	p.add(cmd)
	cmd.Flags().StringVar(&incident, "incident", "", "incident id of the plan shown (default: the template {incident_id})")
	return cmd
}

func newPagesSet() *cobra.Command {
	var (
		p       pagesFlags
		hosts   []string
		zone    string
		options string
		ifMatch string
	)
	cmd := &cobra.Command{
		Use:   "set PAGE_ID --host HOST [--host HOST...] [--zone ZONE] [--options JSON] [--if-match ETAG]",
		Short: "Set a page's hostnames and zone (PUT /v1/pages/{page_id})",
		Long: `Set a page's hostnames and, optionally, its CDN zone (one of the configured
zones; none: the default zone). The whole list is written: give every
hostname of the page. --options sets the page's options as JSON with the
names of the config's pages.<id> (schemes, paths, tags, keys, key_sets,
cdn_order, soft_purge, cover); left out, the default rule's. Setting what is
already stored changes nothing. --if-match ETAG (from pages get) writes only
if nobody changed the page since.

` + pagesExit,
		Example: `  edgepurge pages set p0 --host p0.status.example.com --host status.acme.com
  edgepurge pages set p0 --host status.acme.com --zone 023e105f4ecef8ad9ca31a8372d0c353 --if-match 3-5f2a9c01d4e7
  edgepurge pages set p0 --host status.acme.com --options '{"tags": ["page:{page_id}"], "schemes": ["https", "http"]}'`,
		Args: onePage,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(hosts) == 0 {
				return &exitError{code: 2, err: errors.New("--host: required, once per hostname of the page (to remove the page: edgepurge pages delete)")}
			}
			var o plan.Options
			if options != "" {
				if err := event.DecodeObjectStrict([]byte(options), &o); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--options: %w", err)}
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			r, err := p.client().SetPage(ctx, args[0], hosts, zone, o, ifMatch)
			if err != nil {
				return pagesError(err)
			}
			return writeResult(cmd.OutOrStdout(), r, p.asJSON)
		},
	}
	p.add(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&hosts, "host", nil, "hostname of the page (repeatable; the whole list)")
	f.StringVar(&zone, "zone", "", "CDN zone of the page (default: the configured default zone)")
	f.StringVar(&options, "options", "", `page options as JSON, e.g. {"tags": ["page:{page_id}"]} (default: the default rule's)`)
	f.StringVar(&ifMatch, "if-match", "", "write only if the page's ETag is this (from pages get); * for any existing page")
	return cmd
}

func newPagesDelete() *cobra.Command {
	var (
		p       pagesFlags
		ifMatch string
	)
	cmd := &cobra.Command{
		Use:   "delete PAGE_ID [--if-match ETAG]",
		Short: "Remove a page's registry entry (DELETE /v1/pages/{page_id})",
		Long: `Remove a page's registry entry: its events then use the default rule, or are
refused as an unknown page without one. Deleting a page that has no entry
changes nothing.

` + pagesExit,
		Example: `  edgepurge pages delete p0 --if-match 3-5f2a9c01d4e7`,
		Args:    onePage,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			r, err := p.client().DeletePage(ctx, args[0], ifMatch)
			if err != nil {
				return pagesError(err)
			}
			return writeResult(cmd.OutOrStdout(), r, p.asJSON)
		},
	}
	p.add(cmd)
	cmd.Flags().StringVar(&ifMatch, "if-match", "", "delete only if the page's ETag is this (from pages get)")
	return cmd
}

func newPagesList() *cobra.Command {
	var (
		p      pagesFlags
		host   string
		limit  int
		cursor string
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "list [--host HOST] [--limit N] [--all]",
		Short: "List the pages, or those with a hostname (GET /v1/pages)",
		Long: `List the config's pages, then the registry's, --limit at a time. Without
--all, a listing with more to come ends with the --cursor to continue from
(on stderr). An entry planning refuses shows its problem.

` + pagesExit,
		Example: `  edgepurge pages list --host status.acme.com
  edgepurge pages list --all --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &exitError{code: 2, err: errors.New("--limit: from 1 to 1000")}
			}
			c := p.client()
			out := cmd.OutOrStdout()
			header := true
			for {
				ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
				l, err := c.Pages(ctx, cursor, limit, host)
				cancel()
				if err != nil {
					var he *client.HTTPError
					if errors.As(err, &he) && he.Status == http.StatusBadRequest && strings.Contains(he.Message, "cursor") {
						return &exitError{code: 2, err: fmt.Errorf("--cursor: %s", he.Message)}
					}
					return pagesError(err)
				}
				if p.asJSON {
					for _, e := range l.Pages {
						_ = json.NewEncoder(out).Encode(e)
					}
				} else {
					writeEntries(out, l.Pages, header)
				}
				header = false
				if l.Cursor == "" {
					return nil
				}
				if !all {
					fmt.Fprintf(cmd.ErrOrStderr(), "more: --cursor %s (or --all)\n", l.Cursor)
					return nil
				}
				cursor = l.Cursor
			}
		},
	}
	p.add(cmd)
	f := cmd.Flags()
	f.StringVar(&host, "host", "", "only the pages with this hostname")
	f.IntVar(&limit, "limit", 100, "pages per request (1 to 1000)")
	f.StringVar(&cursor, "cursor", "", "continue a listing from this cursor")
	f.BoolVar(&all, "all", false, "follow the cursor to the end")
	return cmd
}

// fieldFlag maps a field the server names to the flag that sets it.
var fieldFlag = regexp.MustCompile(`field "(hosts|zone|id|schemes|paths|tags|keys|key_sets|cdn_order|soft_purge|cover)(?:\[(\d+)\])?"`)

// pagesError is a refusal (exit 1, naming the flag to fix) or a failure to
// make the request (exit 2).
func pagesError(err error) error {
	var he *client.HTTPError
	if !errors.As(err, &he) {
		return &exitError{code: 2, err: err}
	}
	msg := fieldFlag.ReplaceAllStringFunc(he.Message, func(m string) string {
		sub := fieldFlag.FindStringSubmatch(m)
		switch sub[1] {
		case "hosts":
			if n, err := strconv.Atoi(sub[2]); err == nil {
				return fmt.Sprintf("--host #%d", n+1)
			}
			return "--host"
		case "zone":
			return "--zone"
		case "id":
			return "PAGE_ID"
		}
		return "--options " + strings.TrimPrefix(m, "field ")
	})
	if he.Status == http.StatusPreconditionFailed {
		msg = "--if-match: " + strings.TrimPrefix(msg, "If-Match: ")
	}
	return &exitError{code: 1, err: fmt.Errorf("HTTP %d: %s", he.Status, msg)}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeResult(w io.Writer, r pages.Result, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	fmt.Fprintf(w, "%s: %s", r.ID, r.Result)
	if r.ETag != "" {
		fmt.Fprintf(w, " (etag %s)", r.ETag)
	}
	fmt.Fprintln(w)
	if len(r.Hosts) > 0 {
		fmt.Fprintf(w, "hosts   %s\n", strings.Join(r.Hosts, ", "))
	}
	if r.Zone != "" {
		fmt.Fprintf(w, "zone    %s\n", r.Zone)
	}
	if o := r.Options.Encode(); o != "" {
		fmt.Fprintf(w, "options %s\n", o)
	}
	return nil
}

func writePage(w io.Writer, v pages.View) {
	fmt.Fprintf(w, "page      %s\n", v.ID)
	fmt.Fprintf(w, "source    %s\n", v.Source)
	fmt.Fprintf(w, "hosts     %s\n", strings.Join(v.Hosts, ", "))
	zone := v.Zone
	if zone == "" {
		zone = "(default)"
	}
	fmt.Fprintf(w, "zone      %s\n", zone)
	if o := v.Options.Encode(); o != "" {
		fmt.Fprintf(w, "options   %s\n", o)
	}
	if v.ETag != "" {
		fmt.Fprintf(w, "etag      %s (version %d)\n", v.ETag, v.Version)
	}
	if v.Problem != "" {
		fmt.Fprintf(w, "problem   %s\n", v.Problem)
	}
	if v.PlanError != "" {
		fmt.Fprintf(w, "plan      refused: %s\n", v.PlanError)
	}
	if pl := v.Plan; pl != nil {
		fmt.Fprintf(w, "plan      an incident update purges %d urls, %d tags, %d keys", len(pl.URLs), len(pl.Tags), len(pl.Keys)+len(pl.KeySets))
		if pl.Zone != "" {
			fmt.Fprintf(w, " in zone %s", pl.Zone)
		}
		fmt.Fprintln(w)
		for _, u := range pl.URLs {
			fmt.Fprintf(w, "  url     %s\n", u)
		}
		for _, t := range pl.Tags {
			fmt.Fprintf(w, "  tag     %s\n", t)
		}
		for _, k := range pl.Keys {
			fmt.Fprintf(w, "  key     %s\n", k)
		}
		for _, k := range pl.KeySets {
			fmt.Fprintf(w, "  key set %s\n", k)
		}
	}
	if len(v.Changes) > 0 {
		fmt.Fprintln(w, "changes")
		for _, c := range v.Changes {
			after := "-"
			if c.After != nil {
				after = strings.Join(c.After.Hosts, ", ")
			}
			fmt.Fprintf(w, "  %s  %-8s by %s: %s\n", c.Time.UTC().Format(recordTimeLayout), c.Result, c.Actor, after)
		}
	}
}

// recordTimeLayout is UTC with its zone shown, as edgepurge log prints.
const recordTimeLayout = "2006-01-02 15:04:05Z"

const entryLine = "%-24s  %-8s  %-32s  %s\n"

func writeEntries(w io.Writer, es []pages.Entry, header bool) {
	if header {
		fmt.Fprintf(w, entryLine, "PAGE", "SOURCE", "ZONE", "HOSTS")
	}
	for _, e := range es {
		zone := e.Zone
		if zone == "" {
			zone = "-"
		}
		hosts := strings.Join(e.Hosts, ",")
		if e.Problem != "" {
			hosts += "  (" + e.Problem + ")"
		}
		fmt.Fprintf(w, entryLine, e.ID, e.Source, zone, hosts)
	}
}
