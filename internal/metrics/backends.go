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
