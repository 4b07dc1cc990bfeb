package fanout

import (
	"context"
	"slices"

	"github.com/edgepurge/edgepurge/internal/plan"
)

// Only returns a Fanout that purges on the named backends alone (CDN
// purgers and the Redis side, by name), through the very same purgers —
// coalescing, batching and rate limits included — with the same deadline
// and observer. The journal's re-driver uses it to finish only what failed.
func (f *Fanout) Only(backends []string) *Fanout {
	g := *f
	g.cdn = nil
	for _, c := range f.cdn {
		if slices.Contains(backends, c.Name()) {
			g.cdn = append(g.cdn, c)
		}
	}
	if f.keys != nil && !slices.Contains(backends, f.keys.Name()) {
		g.keys = nil
	}
	return &g
}

// RunOn is Run on the named backends only (see Only); never a dry run.
func (f *Fanout) RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *Answer) {
	f.Only(backends).Run(ctx, id, p, false, a)
}

// KeysBackend is the name of the Redis side's results ("redis"), or ""
// when there is none.
func (f *Fanout) KeysBackend() string {
	if f.keys == nil {
		return ""
	}
	return f.keys.Name()
}
