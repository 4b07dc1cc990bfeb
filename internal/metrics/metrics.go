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

	// CDNCalls counts the coalescer's calls by backend and kind.
	CDNCalls *prometheus.CounterVec
	// CDNItemsPerCall is how full the coalescer's calls are.
	CDNItemsPerCall *prometheus.HistogramVec
	// Coalesced counts items an event found already waiting.
	Coalesced *prometheus.CounterVec
	// Throttled counts the CDN's 429s.
	Throttled *prometheus.CounterVec
	// RateLimitFallbacks counts budget requests the local bucket answered
	// because Redis could not.
	RateLimitFallbacks *prometheus.CounterVec
	// RateLimitLongPauses counts the CDN's pauses (after a 429) longer
	// than a purge's deadline, by backend and bucket.
	RateLimitLongPauses *prometheus.CounterVec
	// Escalations counts requests purged by their page's cover instead of
	// their URLs; EscalatedURLs the URLs that thereby left the URL queue.
	Escalations   *prometheus.CounterVec
	EscalatedURLs *prometheus.CounterVec

	// Verifications counts post-purge checks of purged URLs by result
	// (verified, stale, failed).
	Verifications *prometheus.CounterVec
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
	}
	m.CDNCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_cdn_calls_total",
		Help: "Purge calls sent to a CDN by the coalescer, by backend and kind (urls, tags, hosts, prefixes, everything).",
	}, []string{"backend", "kind"})
	m.CDNItemsPerCall = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edgepurge_cdn_items_per_call",
		Help:    "Items carried by one CDN purge call.",
		Buckets: []float64{1, 2, 5, 10, 20, 30, 50, 75, 100, 250, 500},
	}, []string{"backend", "kind"})
	m.Coalesced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_coalesced_items_total",
		Help: "Items an event found already waiting to be purged, so not purged twice.",
	}, []string{"backend", "kind"})
	m.Throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_cdn_throttled_total",
		Help: "429 answers from a CDN; each pauses the rate budget for its Retry-After.",
	}, []string{"backend", "kind"})
	m.RateLimitFallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_ratelimit_local_fallbacks_total",
		Help: "Rate-budget requests answered by the local bucket because Redis was unreachable.",
	}, []string{"bucket"})
	m.RateLimitLongPauses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_ratelimit_long_pauses_total",
		Help: "Rate-budget pauses after a CDN's 429 longer than a purge's deadline (server.purge_timeout), by backend and bucket: the purges waiting on that bucket miss their deadline.",
	}, []string{"backend", "bucket"})
	m.Escalations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_cdn_escalations_total",
		Help: "Requests purged by their page's cover (tag or hostnames) instead of their URLs, because the URL budget was the bottleneck, by backend.",
	}, []string{"backend"})
	m.EscalatedURLs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_cdn_escalated_urls_total",
		Help: "URLs that left the URL queue because their page was purged by its cover instead, by backend.",
	}, []string{"backend"})
	reg.MustRegister(m.CDNCalls, m.CDNItemsPerCall, m.Coalesced, m.Throttled, m.RateLimitFallbacks, m.RateLimitLongPauses, m.Escalations, m.EscalatedURLs)
	m.Verifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepurge_edge_checks_total",
		Help: "Purged URLs fetched through the page's edge after the purge, by result (verified, stale, failed).",
	}, []string{"result"})
	reg.MustRegister(m.Verifications)
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgepurge_build_info",
		Help: "Build information; always 1.",
	}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(version, commit, runtime.Version()).Set(1)
	reg.MustRegister(m.Events, m.BackendDuration, m.FreshnessLag, m.Panics, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveEdgeCheck counts one URL's post-purge check (edgecheck.Observer).
func (m *Metrics) ObserveEdgeCheck(result string) { m.Verifications.WithLabelValues(result).Inc() }

// Event is the Events counter of one source and outcome.
func (m *Metrics) Event(source, outcome string) prometheus.Counter {
	return m.Events.WithLabelValues(source, outcome)
}

// ObserveBackend records one backend's result (chain.Observer).
func (m *Metrics) ObserveBackend(backend, status string, d time.Duration) {
	m.BackendDuration.WithLabelValues(backend, status).Observe(d.Seconds())
}

// ObserveBackendTraced records one backend's result of a sampled event,
// its trace id as the exemplar (chain.TracedObserver).
func (m *Metrics) ObserveBackendTraced(backend, status string, d time.Duration, traceID string) {
	observe(m.BackendDuration.WithLabelValues(backend, status), d.Seconds(), traceID)
}

// ObserveFreshnessLag records an event's freshness lag; traceID, when not
// empty, is its trace's id, kept as the exemplar.
func (m *Metrics) ObserveFreshnessLag(lag time.Duration, traceID string) {
	observe(m.FreshnessLag, lag.Seconds(), traceID)
}

// observe observes v in h, with an exemplar of traceID when there is one
// (exposed in the OpenMetrics format only).
func observe(h prometheus.Observer, v float64, traceID string) {
	if eo, ok := h.(prometheus.ExemplarObserver); ok && traceID != "" {
		eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": traceID})
		return
	}
	h.Observe(v)
}

// CDN returns the coalescer's observer for one backend.
func (m *Metrics) CDN(backend string) CDNObserver { return CDNObserver{m: m, backend: backend} }

// CDNObserver records one CDN backend's coalescing queue (queue.Observer).
type CDNObserver struct {
	m       *Metrics
	backend string
}

// Escalated implements queue.Observer.
func (o CDNObserver) Escalated(urls int) {
	o.m.Escalations.WithLabelValues(o.backend).Inc()
	o.m.EscalatedURLs.WithLabelValues(o.backend).Add(float64(urls))
}

// Coalesced implements queue.Observer.
func (o CDNObserver) Coalesced(kind string, n int) {
	o.m.Coalesced.WithLabelValues(o.backend, kind).Add(float64(n))
}

// Throttled implements queue.Observer.
func (o CDNObserver) Throttled(kind string) { o.m.Throttled.WithLabelValues(o.backend, kind).Inc() }

// CallSent implements queue.Observer.
func (o CDNObserver) CallSent(kind string, items int) {
	o.m.CDNCalls.WithLabelValues(o.backend, kind).Inc()
	o.m.CDNItemsPerCall.WithLabelValues(o.backend, kind).Observe(float64(items))
}
