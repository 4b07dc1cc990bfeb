package health

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestATargetFailsOnlyAfterTheWindowWithoutSuccess(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	h.SetWindow(30 * time.Second)
	tg := h.Track("cloudflare", "z1", true)
	if s := status(t, h, "cloudflare zone z1"); s.OK || s.Error != "not checked yet" || s.Gating {
		t.Fatalf("before any call: %+v", s)
	}
	tg.Call(nil, 1, 0)
	if s := status(t, h, "cloudflare zone z1"); !s.OK || s.Scope != ScopeShared {
		t.Fatalf("after a success: %+v", s)
	}
	boom := errors.New("purge 1 urls: HTTP 503")
	tg.Call(boom, 1, 0)
	c.t = c.t.Add(29 * time.Second)
	tg.Call(boom, 1, 0)
	if s := status(t, h, "cloudflare zone z1"); !s.OK || !strings.Contains(s.Error, "HTTP 503") {
		t.Fatalf("failing for 29 s of a 30 s window: %+v", s)
	}
	c.t = c.t.Add(time.Second)
	s := status(t, h, "cloudflare zone z1")
	if s.OK || !strings.Contains(s.Error, "no successful purge for 30s") || !s.FailingSince.Equal(time.Unix(1000, 0)) {
		t.Fatalf("failing for the window: %+v", s)
	}
	if ready, _ := h.Report(); !ready {
		t.Error("a shared target made the instance unready without shared_grace")
	}
	tg.Call(nil, 1, 0)
	if s := status(t, h, "cloudflare zone z1"); !s.OK || s.Error != "" {
		t.Fatalf("after a success again: %+v", s)
	}
}

// A breaker cycling open → half-open refuses most purges before they reach
// the CDN (no call) and lets one through that fails: the check must stay
// failing, not flap.
func TestATargetDoesNotFlapWhileEveryCallFails(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	tg := h.Track("fastly", "svc", true)
	tg.Call(errors.New("HTTP 500"), 0, 1)
	for i := 0; i < 30; i++ {
		c.t = c.t.Add(10 * time.Second)
		if i%2 == 0 {
			tg.Call(errors.New("HTTP 500"), 0, 1)
		}
		s := status(t, h, "fastly service svc")
		if want := c.t.Sub(time.Unix(1000, 0)) < DefaultWindow; s.OK != want {
			t.Fatalf("at +%s: OK=%v, want %v (%+v)", c.t.Sub(time.Unix(1000, 0)), s.OK, want, s)
		}
	}
}

func TestATargetGatesAfterTheSharedGrace(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	h.SetSharedGrace(time.Minute)
	tg := h.Track("varnish", "http://127.0.0.1:6081", true)
	tg.Call(errors.New("connection refused"), 1, 0)
	c.t = c.t.Add(61 * time.Second)
	ready, _ := h.Report()
	if s := status(t, h, "varnish node http://127.0.0.1:6081"); ready || !s.Gating {
		t.Fatalf("ready=%v %+v", ready, s)
	}
}

func TestATargetWithoutProbesPassesUntilItsFirstCall(t *testing.T) {
	h := checkerAt(&clock{time.Unix(1000, 0)})
	h.Track("redis", "", false)
	if s := status(t, h, "redis"); !s.OK {
		t.Fatalf("%+v", s)
	}
	if ts := h.Targets(); len(ts) != 1 || ts[0].State != StateUnknown {
		t.Fatalf("%+v", ts)
	}
}

func TestATargetCountsRecentCalls(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	h := checkerAt(c)
	tg := h.Track("cloudflare", "z", true)
	tg.Call(nil, 30, 0)
	tg.Call(errors.New("x"), 0, 1)
	c.t = c.t.Add(2 * time.Minute)
	tg.Call(nil, 5, 0)
	ts := h.Targets()[0]
	if ts.Calls != 3 || ts.Failures != 1 || ts.URLs != 5 || ts.Flex != 0 || ts.State != StateOK {
		t.Fatalf("after 2 min: %+v", ts)
	}
	c.t = c.t.Add(4 * time.Minute)
	if ts := h.Targets()[0]; ts.Calls != 1 || ts.Failures != 0 {
		t.Fatalf("after 6 min: %+v", ts)
	}
	c.t = c.t.Add(2 * time.Minute)
	if ts := h.Targets()[0]; ts.Calls != 0 {
		t.Fatalf("after 8 min: %+v", ts)
	}
}
