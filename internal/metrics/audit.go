package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Ops are the operability metrics: the audit trail, the canary and the
// CDN's answers by zone. They live on the same registry as Metrics.
type Ops struct {
	// AuditDropped counts purge records dropped because the audit writer
	// was too far behind (the purge itself is unaffected).
	AuditDropped prometheus.Counter
	// AuditFallbacks counts records kept only in memory because Redis
	// could not be written.
	AuditFallbacks prometheus.Counter
	// CanaryRuns counts canary purges by result (ok, failed).
	CanaryRuns *prometheus.CounterVec
	// CanaryLastSuccess is the Unix time of the canary's last success.
	CanaryLastSuccess prometheus.Gauge
	// CDNRequests counts the CDN's answers to purge calls by backend, zone
	// and HTTP status ("error" when no answer arrived).
	CDNRequests *prometheus.CounterVec
	// CDNCompletionEstimate is, per backend, the CDN's own estimate of how
	// long an accepted purge takes to reach every edge (Akamai's
	// estimatedSeconds): edgepurge counts a purge done when it is accepted,
	// and this is how much later the edges should have it.
	CDNCompletionEstimate *prometheus.HistogramVec

	// zones are the zone label values in use: zones come from the page
	// registry too, so past maxZoneLabels the rest count as "other".
	mu    sync.Mutex
	zones map[string]bool
}

// maxZoneLabels bounds the zone label's values, so that a registry of many
// zones cannot grow the series without bound.
const maxZoneLabels = 50

// OtherZone is the zone label of the zones past maxZoneLabels.
const OtherZone = "other"

// NewOps creates the operability metrics and registers them on reg.
func NewOps(reg prometheus.Registerer) *Ops {
	o := &Ops{
		zones: map[string]bool{},
		AuditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_audit_dropped_total",
			Help: "Purge records not written to the audit trail because its queue was full.",
		}),
		AuditFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_audit_memory_fallbacks_total",
			Help: "Purge records kept only in the in-memory ring because Redis could not be written.",
		}),
		CanaryRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_canary_runs_total",
			Help: "Canary purges, by result (ok, failed).",
		}, []string{"result"}),
		CanaryLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepurge_canary_last_success_timestamp_seconds",
			Help: "Unix time of the canary's last successful purge; 0 before the first.",
		}),
		CDNRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_cdn_requests_total",
			Help: "Purge API calls answered by a CDN, by backend, zone and HTTP status (error: no answer).",
		}, []string{"backend", "zone", "status"}),
		CDNCompletionEstimate: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgepurge_cdn_completion_estimate_seconds",
			Help:    "The CDN's estimate, in its answer to an accepted purge call, of when every edge has the purge (Akamai's estimatedSeconds), by backend.",
			Buckets: []float64{1, 2, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"backend"}),
	}
	reg.MustRegister(o.AuditDropped, o.AuditFallbacks, o.CanaryRuns, o.CanaryLastSuccess, o.CDNRequests, o.CDNCompletionEstimate)
	return o
}

// ObserveCanary records one canary run.
func (o *Ops) ObserveCanary(err error, at time.Time) {
	if err != nil {
		o.CanaryRuns.WithLabelValues("failed").Inc()
		return
	}
	o.CanaryRuns.WithLabelValues("ok").Inc()
	o.CanaryLastSuccess.Set(float64(at.UnixNano()) / 1e9)
}

// ObserveCDNRequest counts one CDN answer; status 0 means none arrived.
func (o *Ops) ObserveCDNRequest(backend, zone string, status int) {
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	o.CDNRequests.WithLabelValues(backend, o.zoneLabel(zone), s).Inc()
}

// zoneLabel is zone, or OtherZone once maxZoneLabels others are in use.
func (o *Ops) zoneLabel(zone string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.zones[zone] {
		return zone
	}
	if len(o.zones) >= maxZoneLabels {
		return OtherZone
	}
	o.zones[zone] = true
	return zone
}
