package history

import (
	"testing"
	"time"
)

func TestSnapshotCountsAndLags(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 5, 0, time.UTC)
	h := New(10*time.Second, time.Minute)
	h.now = func() time.Time { return now }
	h.Observe("purged", 100*time.Millisecond)
	h.Observe("purged", 300*time.Millisecond)
	h.Observe("journaled", -1)
	h.Observe("partial", -1)
	now = now.Add(20 * time.Second)
	h.Observe("dry_run", -1)

	s := h.Snapshot()
	if len(s.Slots) != 6 || s.SlotSeconds != 10 || s.WindowSeconds != 60 {
		t.Fatalf("slots %d, slot %v s, window %v s; want 6, 10, 60", len(s.Slots), s.SlotSeconds, s.WindowSeconds)
	}
	last, first := s.Slots[5], s.Slots[3]
	// A dry run purged nothing: it is counted as such, never as ok.
	if last.Purges != 1 || last.DryRun != 1 || last.OK != 0 || last.LagCount != 0 {
		t.Errorf("current slot = %+v, want one dry run without lag", last)
	}
	if first.Purges != 4 || first.OK != 2 || first.Journaled != 1 || first.Failed != 1 {
		t.Errorf("earlier slot = %+v, want 2 ok, 1 journaled, 1 failed", first)
	}
	if first.LagCount != 2 || first.LagMaxSeconds != 0.3 || first.LagP99Seconds != 0.3 || first.LagMeanSeconds < 0.199 || first.LagMeanSeconds > 0.201 {
		t.Errorf("earlier slot lags = %+v, want 2, max 0.3, p99 0.3, mean 0.2", first)
	}
	if !first.Start.Equal(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("slot start %v", first.Start)
	}
	if s.Totals.Purges != 5 || s.Totals.OK != 2 || s.Totals.DryRun != 1 || s.Totals.LagCount != 2 {
		t.Errorf("totals = %+v", s.Totals)
	}
}

func TestOldSlotsAreForgotten(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	h := New(10*time.Second, time.Minute)
	h.now = func() time.Time { return now }
	h.Observe("purged", time.Second)
	now = now.Add(time.Minute) // the same ring slot, a new time slot
	h.Observe("failed", -1)
	s := h.Snapshot()
	if s.Totals.Purges != 1 || s.Totals.Failed != 1 || s.Totals.LagCount != 0 {
		t.Errorf("totals = %+v, want only the failed purge of the current slot", s.Totals)
	}
}

func TestLagSamplesAreBounded(t *testing.T) {
	h := New(time.Hour, time.Hour)
	for i := range 10 * lagSamples {
		h.Observe("purged", time.Duration(i)*time.Millisecond)
	}
	h.mu.Lock()
	n := len(h.slots[int(h.now().UnixNano()/int64(time.Hour))%len(h.slots)].lags)
	h.mu.Unlock()
	if n != lagSamples {
		t.Errorf("kept %d lag samples, want %d", n, lagSamples)
	}
	if s := h.Snapshot(); s.Totals.LagCount != 10*lagSamples || s.Totals.LagP99Seconds < 2 {
		t.Errorf("totals = %+v", s.Totals)
	}
}
