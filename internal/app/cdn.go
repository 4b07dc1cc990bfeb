package app

import (
	"slices"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/varnish"
)

// newVarnish is the Varnish purger of cfg.
func newVarnish(cfg config.Varnish) (*varnish.Purger, error) {
	return varnish.New(varnish.Config{Nodes: cfg.Nodes, SoftPurge: cfg.SoftPurge, Timeout: cfg.Timeout})
}

// orderCDN sorts the CDN purgers by order (names; inner caches first), the
// ones it does not name last, in their given order.
func orderCDN(cdn []purge.Purger, order []string) []purge.Purger {
	out := slices.Clone(cdn)
	rank := func(p purge.Purger) int {
		if i := slices.Index(order, p.Name()); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b purge.Purger) int { return rank(a) - rank(b) })
	return out
}
