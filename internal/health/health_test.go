package health

import (
	"errors"
	"testing"
	"time"
)

// clock is a settable now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func checkerAt(c *clock) *Checker {
	h := New(nil)
	h.now = c.now
	return h
}

func status(t *testing.T, h *Checker, name string) Status {
	t.Helper()
	_, all := h.Report()
	for _, s := range all {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no check %q in %+v", name, all)
	return Status{}
}

func TestAnOwnCheckFailsReadinessAtOnce(t *testing.T) {
	h := checkerAt(&clock{time.Unix(1000, 0)})
	h.Set("config", 0, errors.New("bad"))
	if ready, _ := h.Report(); ready {
		t.Error("ready with its own check failing")
	}
	if s := status(t, h, "config"); s.Scope != ScopeInstance || !s.Gating {
		t.Errorf("status %+v", s)
	}
}

func TestASharedCheckNeverFailsReadinessByDefault(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	h.Share("redis")
	h.Register("redis")
	if ready, _ := h.Report(); !ready {
		t.Error("a shared check not run yet held readiness")
	}
	h.Set("redis", 0, errors.New("connection refused"))
	c.t = c.t.Add(time.Hour)
	ready, _ := h.Report()
	s := status(t, h, "redis")
	if !ready || s.OK || s.Gating || s.Scope != ScopeShared || s.FailingSince != time.Unix(1000, 0) {
		t.Errorf("ready %v, status %+v", ready, s)
	}
}

func TestASharedCheckFailsReadinessAfterTheGrace(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	h.SetSharedGrace(30 * time.Second)
	h.Share("canary")
	h.Set("canary", 0, errors.New("purge failed"))
	c.t = c.t.Add(10 * time.Second)
	h.Set("canary", 0, errors.New("purge failed again"))
	if ready, _ := h.Report(); !ready {
		t.Error("unready inside the grace")
	}
	c.t = c.t.Add(25 * time.Second)
	if ready, _ := h.Report(); ready || !status(t, h, "canary").Gating {
		t.Error("still ready 35 s into a 30 s grace")
	}
	// One success starts the grace anew.
	h.Set("canary", 0, nil)
	h.Set("canary", 0, errors.New("again"))
	if ready, _ := h.Report(); !ready {
		t.Error("a success did not reset the grace")
	}
}

func TestAStaleSharedCheckFailsFromItsMaxAge(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	h.SetSharedGrace(time.Minute)
	h.Share("canary")
	h.Set("canary", 90*time.Second, nil)
	c.t = c.t.Add(2 * time.Minute) // stale since 1000+90s
	if s := status(t, h, "canary"); s.OK || s.Gating {
		t.Errorf("stale for 30 s: %+v", s)
	}
	c.t = c.t.Add(time.Minute)
	if ready, _ := h.Report(); ready {
		t.Error("stale past the grace, still ready")
	}
}

func TestDrainingFailsReadiness(t *testing.T) {
	h := New(nil)
	h.Drain()
	if ready, all := h.Report(); ready || all[0].Name != "draining" || !all[0].Gating {
		t.Errorf("draining: ready %v, %+v", ready, all)
	}
}
