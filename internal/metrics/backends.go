package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backends are the metrics of every call to a backend target (Redis, a
// Cloudflare zone, a Fastly service, a Varnish node), events and probes
// alike: what the readiness window and the console judge from.
type Backends struct {
	// Calls counts calls by backend, target and result (ok, failed).
	Calls *prometheus.CounterVec
	// LastSuccess is when a target last accepted a call.
	LastSuccess *prometheus.GaugeVec
}

// NewBackends creates the backend metrics and registers them on reg.
func NewBackends(reg prometheus.Registerer) *Backends {
	b := &Backends{
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_backend_calls_total",
			Help: "Calls to a backend target (Redis, a CDN zone, service or node), events and probes alike, by backend, target and result (ok, failed).",
		}, []string{"backend", "target", "result"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgepurge_backend_last_success_timestamp_seconds",
			Help: "When a backend target last accepted a call (Unix time); 0 before its first success.",
		}, []string{"backend", "target"}),
	}
	reg.MustRegister(b.Calls, b.LastSuccess)
	return b
}

// Target initialises a target's series to 0, so that rules and dashboards
// see it before its first call.
func (b *Backends) Target(backend, target string) {
	b.Calls.WithLabelValues(backend, target, "ok")
	b.Calls.WithLabelValues(backend, target, "failed")
	b.LastSuccess.WithLabelValues(backend, target)
}

// Call counts one call to a target that ended at `at`.
func (b *Backends) Call(backend, target string, ok bool, at time.Time) {
	if !ok {
		b.Calls.WithLabelValues(backend, target, "failed").Inc()
		return
	}
	b.Calls.WithLabelValues(backend, target, "ok").Inc()
	b.LastSuccess.WithLabelValues(backend, target).Set(float64(at.UnixNano()) / 1e9)
}

// Check is one readiness check's result, for ReadyCollector.
type Check struct {
	Name string
	OK   bool
}

// readyCollector exports edgepurge_ready from the readiness report at
// scrape time: a purge target's check fails when its window passes, not
// when something runs, so a gauge set by events would lag it.
type readyCollector struct {
	desc   *prometheus.Desc
	report func() []Check
}

// NewReadyCollector returns the collector of edgepurge_ready{check}: 1 for
// each check that passes, 0 for each that fails, read from report at
// every scrape.
func NewReadyCollector(report func() []Check) prometheus.Collector {
	return readyCollector{
		desc:   prometheus.NewDesc("edgepurge_ready", "1 when the readiness check passes, 0 when it fails (or has not run yet).", []string{"check"}, nil),
		report: report,
	}
}

func (c readyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c readyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, chk := range c.report() {
		v := 0.0
		if chk.OK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, chk.Name)
	}
}

// Outcomes of edgepurge_events_total besides the answers' statuses.
const OutcomeRejected = "rejected"

// Init sets to 0 every series whose labels are known at start, as
// Prometheus' instrumentation guidance asks, so that rules and dashboards
// see them before the first event: events by source and outcome, each CDN
// backend's calls, throttles, escalations and purge durations' counts, and
// the edge check's results. sources and outcomes are the events' known
// labels; cdns the configured CDN backends.
func (m *Metrics) Init(sources, outcomes, cdns []string) {
	for _, s := range sources {
		for _, o := range outcomes {
			m.Event(s, o)
		}
		m.Event(s, OutcomeRejected)
	}
	for _, b := range cdns {
		for _, kind := range []string{"urls", "tags", "hosts", "prefixes", "everything"} {
			m.CDNCalls.WithLabelValues(b, kind)
			m.Throttled.WithLabelValues(b, kind)
			m.Coalesced.WithLabelValues(b, kind)
		}
		m.Escalations.WithLabelValues(b)
		m.EscalatedURLs.WithLabelValues(b)
		for _, bucket := range []string{"urls", "calls", "everything"} {
			m.RateLimitLongPauses.WithLabelValues(b, bucket)
		}
	}
	for _, bucket := range []string{"urls", "calls"} {
		m.RateLimitFallbacks.WithLabelValues(bucket)
	}
	for _, r := range []string{"verified", "stale", "failed"} {
		m.Verifications.WithLabelValues(r)
	}
}
