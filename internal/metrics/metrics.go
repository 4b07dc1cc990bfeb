// Package metrics defines edgepurge's Prometheus metrics, registered on a
// registry of their own (no global state).
package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every metric the service exports.
type Metrics struct {
	Registry *prometheus.Registry

	// Events counts events by source and outcome (purged, partial, failed,
	// dry_run, rejected, ...).
	Events *prometheus.CounterVec
	// BackendDuration is each backend's share of a purge.
	BackendDuration *prometheus.HistogramVec
	// FreshnessLag is from the event's own time to the end of its purge:
	// how stale a public page could have been.
	FreshnessLag prometheus.Histogram
	// Panics counts recovered panics.
	Panics prometheus.Counter
	// Ready is 1 per readiness check that passes.
	Ready *prometheus.GaugeVec
}

// New creates the metrics and registers them, with Go and process collectors
// and edgepurge_build_info.
func New(version, commit string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_events_total",
			Help: "Events received, by source and outcome.",
		}, []string{"source", "outcome"}),
		BackendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgepurge_backend_purge_duration_seconds",
			Help:    "Duration of one backend's part of a purge, by backend and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"backend", "status"}),
		FreshnessLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgepurge_freshness_lag_seconds",
			Help:    "From an event's own time (occurred_at) to the end of its purge.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		Panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_panics_total",
			Help: "Panics recovered in request handlers.",
		}),
		Ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgepurge_ready",
			Help: "1 when the readiness check passes, 0 when it fails.",
		}, []string{"check"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgepurge_build_info",
		Help: "Build information; always 1.",
	}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(version, commit, runtime.Version()).Set(1)
	reg.MustRegister(m.Events, m.BackendDuration, m.FreshnessLag, m.Panics, m.Ready, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveBackend records one backend's result (fanout.Observer).
func (m *Metrics) ObserveBackend(backend, status string, d time.Duration) {
	m.BackendDuration.WithLabelValues(backend, status).Observe(d.Seconds())
}
