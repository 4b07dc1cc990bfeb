package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/journal"
)

// openJournal opens the journal of the config, for journal and replay;
// list (journal) only reads it.
func openJournal(g *globalFlags, list bool) (*app.Journal, error) {
	getenv := os.Getenv
	if list {
		// Listing purges nothing: it needs no CDN configured.
		getenv = func(k string) string {
			if k == "EDGEPURGE_DRY_RUN" {
				return "true"
			}
			return os.Getenv(k)
		}
	}
	cfg, err := g.loadEnv(getenv)
	if err != nil {
		return nil, err
	}
	if g.logLevel == "" {
		// The person on call wants the listing, not the service's info lines.
		cfg.Log.Level = "warn"
	}
	log := app.NewLogger(cfg.Log, os.Stderr)
	// go-redis's lines would come before the command's own error, which
	// says the same; --log-level debug shows them.
	rlog := slog.New(slog.DiscardHandler)
	if strings.EqualFold(g.logLevel, "debug") {
		rlog = log
	}
	redis.SetLogger(app.NewRedisLogger(rlog))
	return app.NewJournal(cfg, log, app.Build{Version: version, Commit: commit})
}

// inRedis adds to a failed read of the journal where it lives and which
// setting names it: the library's error names only an address.
func inRedis(err error) error {
	src := "redis.url"
	if strings.TrimSpace(os.Getenv("REDIS_URL")) != "" {
		src = "REDIS_URL"
	}
	return &exitError{code: 2, err: fmt.Errorf("%w (the journal is in the Redis of %s; is it running?)", err, src)}
}

func newJournal(g *globalFlags) *cobra.Command {
	var dead, asJSON bool
	var timeout time.Duration
	var after string
	var limit int
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "List what the re-drive journal still has to purge (or, with --dead, its dead letters)",
		Long: `List the journal's entries, oldest first: the unfinished parts of events
answered 202 ("journaled"), which every running instance re-drives in the
background. Each shows its backends, how many items are left, its age, its
attempts so far, the instance holding it and the last error.
With --dead, list the dead letters instead: entries that kept failing past
journal.max_age (or that a backend refused for good). They stay until
replayed with edgepurge replay --dead.
The listing is paged (--limit entries a page, --after the last id shown)
so that a full journal is read a page at a time; the table's last line
says how to list the next page. --json prints the page's entries.
Reads Redis directly (REDIS_URL or redis.url), with the config (--config
or $EDGEPURGE_CONFIG); it purges nothing, so it needs no CDN configured.`,
		Example: `  edgepurge journal
  edgepurge journal --limit 50 --after 1764184525000-0
  edgepurge journal --dead --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j, err := openJournal(g, true)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer j.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			out := cmd.OutOrStdout()
			if limit < 1 || limit > maxJournalPage {
				return &exitError{code: 2, err: fmt.Errorf("--limit must be 1 to %d", maxJournalPage)}
			}
			if dead {
				ds, err := j.Dead(ctx, after, limit)
				if err != nil {
					return inRedis(err)
				}
				if asJSON {
					return writeJSONOut(out, ds.Items)
				}
				printDead(out, ds.Items, time.Now())
				printMore(out, ds.Total, len(ds.Items), ds.Next, "--dead ")
				return nil
			}
			ps, err := j.Pending(ctx, after, limit)
			if err != nil {
				return inRedis(err)
			}
			if asJSON {
				return writeJSONOut(out, ps.Items)
			}
			printPending(out, ps.Items, time.Now())
			printMore(out, ps.Total, len(ps.Items), ps.Next, "")
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dead, "dead", false, "list the dead letters instead of the pending entries")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	f.IntVar(&limit, "limit", 1000, "entries a page (1 to 10000)")
	f.StringVar(&after, "after", "", "list the entries after this id (the last one of the previous page)")
	return cmd
}

// maxJournalPage bounds --limit: a page is read in one call.
const maxJournalPage = 10000

// printMore says how much of the stream the page showed, and how to list
// the next page.
func printMore(w io.Writer, total int64, shown int, next, flags string) {
	if next == "" {
		return
	}
	fmt.Fprintf(w, "%d shown of %d; next page: edgepurge journal %s--after %s\n", shown, total, flags, next)
}

func newReplay(g *globalFlags) *cobra.Command {
	var dead, asJSON bool
	var id string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Re-drive the journal (or, with --dead, the dead letters) now, in-process",
		Long: `Purge now, in this process, what the journal still holds (all entries, or
only --id), through the service's own purgers, coalescing and shared rate
limits, like purge --direct. A purged entry is removed; a failed one stays
(in the journal, for the re-driver; or in the dead letters). Each re-drive
is recorded in the audit trail as source redrive.
Exit 0 when every entry was purged, 1 when any failed, 2 when nothing could
be tried.`,
		Example: `  edgepurge replay
  edgepurge replay --dead
  edgepurge replay --id 1764184525000-0`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j, err := openJournal(g, false)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer j.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := j.Replay(ctx, dead, id)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSONOut(out, res); err != nil {
					return err
				}
			} else {
				printReplayed(out, res)
			}
			if id != "" && len(res) == 0 {
				return &exitError{code: 1, err: fmt.Errorf("no entry %s", id)}
			}
			for _, r := range res {
				if r.Status != "purged" {
					return &exitError{code: 1, err: fmt.Errorf("not every entry was purged")}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dead, "dead", false, "replay the dead letters instead of the journal")
	f.StringVar(&id, "id", "", "replay only this entry (its id in the journal, or with --dead in the dead letters)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printPending(w io.Writer, ps []journal.Pending, now time.Time) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "the journal is empty")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT\tSOURCE\tPAGE\tBACKENDS\tITEMS\tAGE\tATTEMPTS\tHELD BY\tLAST ERROR")
	for _, p := range ps {
		holder := p.Consumer
		if holder == "" {
			holder = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", p.ID, p.EventID, p.Source, dash(p.Page),
			strings.Join(p.Backends, ","), p.Items(), age(now, p.FirstFailure), p.Attempts, holder, clip(p.Error))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d pending, oldest failed %s ago\n", len(ps), age(now, ps[0].FirstFailure))
}

func printDead(w io.Writer, ds []journal.Dead, now time.Time) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOURNAL ID\tEVENT\tPAGE\tBACKENDS\tITEMS\tFIRST FAILURE\tDEAD FOR\tATTEMPTS\tREASON\tLAST ERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.JournalID, d.EventID, dash(d.Page),
			strings.Join(d.Backends, ","), d.Items(), d.FirstFailure.Format(time.RFC3339), age(now, d.DeadAt), d.Attempts, d.Reason, clip(d.Error))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d dead letters (edgepurge replay --dead re-drives them)\n", len(ds))
}

func printReplayed(w io.Writer, rs []journal.Replayed) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "nothing to replay")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT\tPAGE\tSTATUS\tERROR")
	purged := 0
	for _, r := range rs {
		if r.Status == "purged" {
			purged++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.EventID, dash(r.Page), r.Status, clip(r.Error))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d of %d purged\n", purged, len(rs))
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip keeps a table row on one screen line.
func clip(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max-1] + "…"
	}
	return s
}
