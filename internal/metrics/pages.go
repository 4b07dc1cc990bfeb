package metrics

import "github.com/prometheus/client_golang/prometheus"

// Pages are the metrics of the pages API.
type Pages struct {
	// Changes counts the page entries written through the API, by
	// operation (set, delete) and result (created, updated, unchanged,
	// deleted, absent).
	Changes *prometheus.CounterVec
	// Refused counts refused writes, by reason (invalid, conflict,
	// configured, error).
	Refused *prometheus.CounterVec
}

// NewPages creates the pages API's metrics and registers them on reg.
func NewPages(reg prometheus.Registerer) *Pages {
	p := &Pages{
		Changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_page_changes_total",
			Help: "Page registry entries written through the pages API, by operation (set, delete) and result (created, updated, unchanged, deleted, absent).",
		}, []string{"op", "result"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_page_writes_refused_total",
			Help: "Page registry writes refused by the pages API, by reason (invalid, conflict, configured, error).",
		}, []string{"reason"}),
	}
	reg.MustRegister(p.Changes, p.Refused)
	return p
}
