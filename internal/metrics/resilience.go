package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Resilience are the metrics of the CDN retries and circuit breakers. They
// live on the same registry as Metrics.
type Resilience struct {
	// CDNRetries counts retried CDN calls by backend and reason (429, 5xx,
	// timeout, network, other).
	CDNRetries *prometheus.CounterVec
	// BreakerState is each backend's breaker: 0 closed, 1 half-open, 2 open.
	BreakerState *prometheus.GaugeVec
	// BreakerTransitions counts state changes by backend, from and to.
	BreakerTransitions *prometheus.CounterVec
}

// NewResilience creates the retry and breaker metrics and registers them
// on reg.
func NewResilience(reg prometheus.Registerer) *Resilience {
	r := &Resilience{
		CDNRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_cdn_retries_total",
			Help: "CDN purge calls retried after a transient failure, by backend and reason (429, 5xx, timeout, network, other).",
		}, []string{"backend", "reason"}),
		BreakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgepurge_breaker_state",
			Help: "State of a backend's circuit breaker: 0 closed, 1 half-open, 2 open.",
		}, []string{"backend"}),
		BreakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_breaker_transitions_total",
			Help: "Circuit breaker state changes, by backend, from and to (closed, half-open, open).",
		}, []string{"backend", "from", "to"}),
	}
	reg.MustRegister(r.CDNRetries, r.BreakerState, r.BreakerTransitions)
	return r
}

// Retried returns the counter function of one backend's retries.
func (r *Resilience) Retried(backend string) func(reason string) {
	return func(reason string) { r.CDNRetries.WithLabelValues(backend, reason).Inc() }
}
