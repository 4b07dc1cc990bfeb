package app

import (
	"context"
	"time"

	"github.com/edgepurge/edgepurge/internal/metrics"
)

// resilience is the retry and breaker metrics of the CDN purgers, and the
// cut-off of in-flight purges at shutdown.
type resilience struct {
	metrics *metrics.Resilience
	// cutoff ends when in-flight purges must stop so that they are still
	// answered before the shutdown bound (server.Config.Context); cut
	// ends it.
	cutoff context.Context
	cut    context.CancelFunc
}

// newResilience creates the retry and breaker metrics on reg.
func newResilience(m *metrics.Metrics) resilience {
	r := resilience{metrics: metrics.NewResilience(m.Registry)}
	r.cutoff, r.cut = context.WithCancel(context.Background())
	return r
}

// answerMargin is how long before the shutdown bound the in-flight purges
// are cut, to leave time for their answers: a quarter of the budget, at
// most 2 s.
func answerMargin(budget time.Duration) time.Duration {
	return min(budget/4, 2*time.Second)
}

// cutPurgesBefore cuts the in-flight purges answerMargin before deadline;
// the returned stop cancels that.
func (a *App) cutPurgesBefore(budget time.Duration) (stop func() bool) {
	return time.AfterFunc(budget-answerMargin(budget), a.res.cut).Stop
}
