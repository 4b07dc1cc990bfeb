package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// The storm's budget is Pro's buckets with the headroom, as the server
// spends them.
func TestStormBudgetIsProWithTheHeadroom(t *testing.T) {
	l := stormBudget()
	if l.URLs.PerSecond() != 1350 || l.URLs.Burst != 1350 || l.Calls.PerSecond() != 4 || l.Calls.Burst != 22 {
		t.Fatalf("storm budget %+v: want URLs 1,350/s burst 1,350, calls 4/s burst 22", l)
	}
}

// The burst-aware bound of the 10-second storm: 10,000 pages of 22 URLs;
// both bursts purge 1,350/22 + 22×100 = 2,261 pages at once, both rates
// 1,350/22 + 4×100 = 461 a second after, so (10,000 − 2,261) ÷ 461 =
// 16.8 s; the rates alone would say 21.7 s.
func TestBurstBound(t *testing.T) {
	b := burstBound(10_000, 220_000, 10*time.Second, stormBudget(), 100)
	want := (10_000 - 1350.0/22 - 2200) / (1350.0/22 + 400)
	if math.Abs(b.S-want) > 1e-9 || math.Abs(b.S-16.77) > 0.01 {
		t.Errorf("bound %.3fs, want %.3fs", b.S, want)
	}
	if math.Abs(b.BurstPages-2261.36) > 0.01 || math.Abs(b.PagesPerS-461.36) > 0.01 {
		t.Errorf("burst %.2f pages, %.2f pages/s", b.BurstPages, b.PagesPerS)
	}
	if f := b.Formula(); !strings.HasSuffix(f, "= 16.8s") || !strings.Contains(f, "(10000 − 1350/22.0 − 22×100) ÷ (1350/22.0 + 4×100)") {
		t.Errorf("formula %q", f)
	}

	// Bursts counted, a storm the budget clears faster than it arrives is
	// bound by its window.
	if b := burstBound(2_000, 44_000, 10*time.Second, stormBudget(), 100); b.S != 10 {
		t.Errorf("2,000 pages in 10 s: bound %.2fs, want the window", b.S)
	}
	// Bigger bursts, a shorter bound: Business (10/s burst 50, with the
	// headroom 9/s burst 45).
	business := ratelimit.Limits{URLs: ratelimit.Rate{Count: 1500, Period: time.Second, Burst: 1500}, Calls: ratelimit.Rate{Count: 10, Period: time.Second, Burst: 50}}.Scaled(ratelimit.DefaultHeadroom)
	if bb := burstBound(10_000, 220_000, 10*time.Second, business, 100); bb.S >= b.S || math.Abs(bb.S-math.Max(10, (10_000-1350.0/22-4500)/(1350.0/22+900))) > 1e-9 {
		t.Errorf("business bound %.2fs (pro %.2fs)", bb.S, b.S)
	}
	// No URLs (every page by cover): the call bucket alone.
	if b := burstBound(10_000, 0, 0, stormBudget(), 100); math.Abs(b.S-(10_000-2200)/400.0) > 1e-9 {
		t.Errorf("covers only: %.2fs", b.S)
	}
}
