package client

import (
	"fmt"
	"io"
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
	fmt.Fprintf(w, "\nplan: %d urls, %d tags, %d hosts, %d prefixes, %d keys, %d key sets", len(p.URLs), len(p.Tags), len(p.Hosts), len(p.Prefixes), len(p.Keys), len(p.KeySets))
	if p.Everything {
		fmt.Fprint(w, ", everything")
	}
	fmt.Fprintln(w)
	for _, group := range []struct {
		name  string
		items []string
	}{{"url", p.URLs}, {"tag", p.Tags}, {"host", p.Hosts}, {"prefix", p.Prefixes}, {"key", p.Keys}, {"key set", p.KeySets}} {
		for _, it := range group.items {
			fmt.Fprintf(w, "  %-7s %s\n", group.name, it)
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
