package metrics

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestZoneLabelsAreBounded(t *testing.T) {
	o := NewOps(prometheus.NewRegistry())
	for i := range maxZoneLabels + 25 {
		o.ObserveCDNRequest("cloudflare", fmt.Sprintf("zone%03d", i), 200)
	}
	o.ObserveCDNRequest("cloudflare", "zone000", 200)
	if n := testutil.CollectAndCount(o.CDNRequests); n != maxZoneLabels+1 {
		t.Errorf("%d series, want %d zones and %q", n, maxZoneLabels, OtherZone)
	}
	if got := testutil.ToFloat64(o.CDNRequests.WithLabelValues("cloudflare", OtherZone, "200")); got != 25 {
		t.Errorf("other = %v, want 25", got)
	}
	if got := testutil.ToFloat64(o.CDNRequests.WithLabelValues("cloudflare", "zone000", "200")); got != 2 {
		t.Errorf("zone000 = %v, want 2", got)
	}
}
