package app

import (
	"context"
	"fmt"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/server"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
)

// resilience is the retrying and circuit breaking of the CDN purgers, and
// the cut-off of in-flight purges at shutdown.
type resilience struct {
	metrics  *metrics.Resilience
	breakers []*breaker.Breaker
	// cutoff ends when in-flight purges must stop so that they are still
	// answered before the shutdown bound; cut ends it.
	cutoff context.Context
	cut    context.CancelFunc
}

// newResilience creates the retry and breaker metrics on reg.
func newResilience(m *metrics.Metrics) resilience {
	r := resilience{metrics: metrics.NewResilience(m.Registry)}
	r.cutoff, r.cut = context.WithCancel(context.Background())
	return r
}

// breakerCheck names a backend's breaker in /readyz.
func breakerCheck(backend string) string { return "breaker_" + backend }

// guard puts a circuit breaker in front of p (outermost: an open breaker
// fails fast before queueing), shown in readiness while open and in the
// breaker metrics, unless the config turns it off.
func (a *App) guard(p purge.Purger, cfg config.Breaker) purge.Purger {
	if cfg.Disabled {
		return p
	}
	name := p.Name()
	check := breakerCheck(name)
	state := a.res.metrics.BreakerState.WithLabelValues(name)
	state.Set(float64(breaker.Closed))
	a.Health.Set(check, 0, nil)
	b := breaker.New(breaker.Config{
		Next: p, Failures: cfg.Failures, Cooldown: cfg.Cooldown,
		OnChange: func(from, to breaker.State) {
			state.Set(float64(to))
			a.res.metrics.BreakerTransitions.WithLabelValues(name, from.String(), to.String()).Inc()
			var err error
			if to == breaker.Open {
				err = fmt.Errorf("circuit open: %d failed purges in a row; purges fail fast for %s, then one probes the CDN", cfg.Failures, cfg.Cooldown)
				a.log.Warn("circuit breaker open: purges fail fast", "backend", name, "from", from.String(), "cooldown", cfg.Cooldown.String())
			} else {
				a.log.Info("circuit breaker "+to.String(), "backend", name, "from", from.String())
			}
			// Half-open counts as ready: the probe needs traffic.
			a.Health.Set(check, 0, err)
		},
	})
	a.res.breakers = append(a.res.breakers, b)
	return b
}

// cutoffPurger cuts the in-flight purges short when the shutdown budget is
// nearly spent, so that each is answered (a retryable failure, or
// journaled) instead of cut off mid-answer when the process exits.
type cutoffPurger struct {
	next   server.Purger
	cutoff context.Context
}

// Run implements server.Purger.
func (c cutoffPurger) Run(ctx context.Context, id string, p plan.Plan, dryRun bool) fanout.Answer {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.cutoff, cancel)
	defer stop()
	return c.next.Run(ctx, id, p, dryRun)
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
