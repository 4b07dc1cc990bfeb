package harness

import (
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape parses /metrics with Prometheus's own text parser.
func (h *H) Scrape() map[string]*dto.MetricFamily {
	h.T.Helper()
	code, body := h.Get("/metrics")
	if code != http.StatusOK {
		h.T.Fatalf("metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		h.T.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// Sample returns the metric of mf whose labels include want, or nil.
func Sample(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	if mf == nil {
		return nil
	}
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			return m
		}
	}
	return nil
}

// Counter is the value of a counter in /metrics with these labels; 0 when
// absent.
func (h *H) Counter(name string, labels map[string]string) float64 {
	h.T.Helper()
	return Sample(h.Scrape()[name], labels).GetCounter().GetValue()
}

// Gauge is the value of a gauge in /metrics with these labels.
func (h *H) Gauge(name string, labels map[string]string) float64 {
	h.T.Helper()
	m := Sample(h.Scrape()[name], labels)
	if m == nil {
		h.T.Fatalf("no %s%v in /metrics", name, labels)
	}
	return m.GetGauge().GetValue()
}

// Metric returns the line of /metrics starting with prefix, or "".
func (h *H) Metric(prefix string) string {
	h.T.Helper()
	_, body := h.Get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
