package client

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/edgepurge/edgepurge/internal/chain"
)

// WriteTable prints an answer for a person: the overall status, one line
// per backend, then the plan.
func WriteTable(w io.Writer, a *chain.Answer) {
	fmt.Fprintf(w, "id %s: %s in %.1f ms\n\n", a.ID, a.Status, a.DurationMS)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tSTATUS\tITEMS\tCALLS\tMS\tERROR")
	for _, r := range a.Results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%s\n", r.Backend, r.Status, r.Items, r.Calls, r.DurationMS, r.Error)
	}
	tw.Flush()
	p := a.Plan
	groups := []struct {
		one, many string
		items     []string
	}{{"url", "urls", p.URLs}, {"tag", "tags", p.Tags}, {"host", "hosts", p.Hosts}, {"prefix", "prefixes", p.Prefixes}, {"key", "keys", p.Keys}, {"key set", "key sets", p.KeySets}}
	counts := make([]string, len(groups))
	for i, g := range groups {
		counts[i] = fmt.Sprintf("%d %s", len(g.items), g.many)
		if len(g.items) == 1 {
			counts[i] = "1 " + g.one
		}
	}
	fmt.Fprintf(w, "\nplan: %s", strings.Join(counts, ", "))
	if p.Everything {
		fmt.Fprint(w, ", everything")
	}
	fmt.Fprintln(w)
	for _, g := range groups {
		for _, it := range g.items {
			fmt.Fprintf(w, "  %-7s %s\n", g.one, it)
		}
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if a.JournalID != "" {
		fmt.Fprintf(w, "journaled as %s: the failed part is re-driven in the background (edgepurge journal)\n", a.JournalID)
	}
	if a.JournalError != "" {
		fmt.Fprintf(w, "not journaled: %s\n", a.JournalError)
	}
}
