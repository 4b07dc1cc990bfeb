package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Event is the same child WithLabelValues gives, kept once resolved.
func TestEventChildIsTheVectorsChild(t *testing.T) {
	m := New("t", "t")
	m.Event("hook", "purged").Inc()
	m.Event("hook", "purged").Inc()
	m.Event("manual", "rejected").Inc()
	if got := testutil.ToFloat64(m.Events.WithLabelValues("hook", "purged")); got != 2 {
		t.Errorf("hook/purged = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Events.WithLabelValues("manual", "rejected")); got != 1 {
		t.Errorf("manual/rejected = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.Events); n != 2 {
		t.Errorf("%d series, want 2 (no series made ahead of use)", n)
	}
	for i := range 2 * maxCachedChildren {
		m.Event("hook", string(rune('a'+i%26))+string(rune('a'+i/26))).Inc()
	}
	if n := len(*m.events.m.Load()); n > maxCachedChildren {
		t.Errorf("%d cached children, bound %d", n, maxCachedChildren)
	}
}
