package bench

import (
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 100 * time.Millisecond}, {90, 180 * time.Millisecond}, {99, 198 * time.Millisecond}, {100, 200 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%g = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one = %v", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v", got)
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %g", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median even = %g", got)
	}
	if got := median(nil); got != 0 {
		t.Errorf("median none = %g", got)
	}
}

func call(at time.Duration, kind string, n, status int) cfstub.Call {
	items := make([]string, n)
	return cfstub.Call{At: time.Unix(0, 0).Add(at), Kind: kind, Items: items, Status: status}
}

func TestSummarizeCalls(t *testing.T) {
	calls := []cfstub.Call{
		call(0, cfstub.KindFiles, 100, 200),
		call(400*time.Millisecond, cfstub.KindFiles, 50, 200),
		call(999*time.Millisecond, cfstub.KindFiles, 30, 429),
		call(1000*time.Millisecond, cfstub.KindFiles, 100, 200), // [0, 1s) has ended: 180 is the most
		call(1100*time.Millisecond, cfstub.KindTags, 5, 200),
		call(1500*time.Millisecond, cfstub.KindFiles, 20, 200),
	}
	got := summarizeCalls(calls)
	want := cdnFigures{calls: 6, urlsMean: 300.0 / 5, urlsMax: 100, maxURLsInSec: 180}
	if got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
	if got := summarizeCalls(nil); got != (cdnFigures{}) {
		t.Errorf("no calls: %+v", got)
	}
}

func TestMedianFigures(t *testing.T) {
	runs := []Figures{
		{Sent: 10, OK: 9, EventsPerSec: 100, P99MS: 5, Statuses: map[string]int{"200": 9, "502": 1}, Samples: map[string]string{"502": "first"}},
		{Sent: 30, OK: 30, EventsPerSec: 300, P99MS: 1, Statuses: map[string]int{"200": 30}},
		{Sent: 20, OK: 18, EventsPerSec: 200, P99MS: 3, Statuses: map[string]int{"200": 18, "502": 1, "error": 1}, Samples: map[string]string{"502": "second", "error": "refused"}},
	}
	m := medianFigures(runs)
	if m.Sent != 20 || m.OK != 18 || m.EventsPerSec != 200 || m.P99MS != 3 {
		t.Errorf("medians: %+v", m)
	}
	if m.Statuses["200"] != 18 || m.Statuses["502"] != 1 || m.Statuses["error"] != 0 || len(m.Statuses) != 3 {
		t.Errorf("status medians: %v", m.Statuses)
	}
	if m.Samples["502"] != "first" || m.Samples["error"] != "refused" {
		t.Errorf("samples: %v", m.Samples)
	}
	if w := worst(runs, Figures.NonOK); w != 2 {
		t.Errorf("worst non-2xx = %d", w)
	}
}

// The "other" column is the median of each run's own count, not what the
// medians of sent, 200 and 202 leave (in one make bench run of naive, -5).
func TestMedianOtherIsItsOwnMedian(t *testing.T) {
	runs := []Figures{
		{Sent: 100, OK: 60, Journaled: 40},
		{Sent: 100, OK: 40, Journaled: 60},
		{Sent: 112, OK: 55, Journaled: 55, Other: 2},
	}
	m := medianFigures(runs)
	if got := m.Sent - m.OK - m.Journaled; got >= 0 {
		t.Fatalf("the example does not show the difference: %d", got)
	}
	if m.Other != 0 {
		t.Errorf("other = %d, want the median of 0, 0 and 2", m.Other)
	}
}
