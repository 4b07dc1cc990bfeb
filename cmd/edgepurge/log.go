package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/client"
)

func newLog() *cobra.Command {
	var (
		server, token string
		f             audit.Filter
		follow        bool
		every         time.Duration
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show what was purged: the audit trail of a running edgepurge (GET /v1/purges)",
		Long: `Show the recent purges (hooks, manual, canary, direct, redrive), newest first: time,
source, event id, page, status, plan size and each backend's outcome.
With --follow, print the last --limit purges oldest first, then each new one
as it arrives (polling), like tail -f. The bearer token is --token, else
$EDGEPURGE_API_TOKEN.`,
		Example: `  edgepurge log --page p0 --limit 20
  edgepurge log --status failed --follow`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, from := apiToken(token)
			if err := f.Check(); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--%w", err)}
			}
			c := client.New(server, token, &http.Client{Timeout: 10 * time.Second})
			c.TokenFrom = from
			out := cmd.OutOrStdout()
			l, err := c.Purges(cmd.Context(), f)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if l.Warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", l.Warning)
			}
			if !follow {
				printRecords(out, l.Records, asJSON, true)
				return nil
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return followLog(ctx, c, f, l.Records, every, func(recs []audit.Record, first bool) {
				printRecords(out, recs, asJSON, first)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&server, "server", "http://127.0.0.1:8080", "edgepurge server URL")
	fl.StringVar(&token, "token", "", "bearer token (default: $EDGEPURGE_API_TOKEN)")
	fl.StringVar(&f.PageID, "page", "", "only this page")
	fl.StringVar(&f.Status, "status", "", "only this status: "+strings.Join(audit.Statuses, ", "))
	fl.StringVar(&f.Source, "source", "", "only this source: "+strings.Join(audit.Sources, ", "))
	fl.IntVar(&f.Limit, "limit", 20, "how many purges")
	fl.BoolVar(&follow, "follow", false, "keep printing new purges as they arrive")
	fl.DurationVar(&every, "interval", 2*time.Second, "poll interval of --follow")
	fl.BoolVar(&asJSON, "json", false, "one JSON record per line")
	return cmd
}

// followLog prints recs oldest first, then polls for records it has not
// printed yet until ctx ends.
func followLog(ctx context.Context, c *client.Client, f audit.Filter, recs []audit.Record, every time.Duration, print func([]audit.Record, bool)) error {
	seen := map[string]bool{}
	emit := func(recs []audit.Record, first bool) {
		var fresh []audit.Record
		for _, r := range slices.Backward(recs) { // oldest first
			if k := recordKey(r); !seen[k] {
				seen[k] = true
				fresh = append(fresh, r)
			}
		}
		if first || len(fresh) > 0 {
			print(fresh, first)
		}
	}
	emit(recs, true)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		l, err := c.Purges(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintln(os.Stderr, "edgepurge log:", err)
			continue
		}
		emit(l.Records, false)
	}
}

func recordKey(r audit.Record) string {
	return r.Time.Format(time.RFC3339Nano) + " " + r.Source + " " + r.ID
}

func printRecords(w io.Writer, recs []audit.Record, asJSON, header bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range recs {
			_ = enc.Encode(r)
		}
		return
	}
	client.WriteRecords(w, recs, header)
}
