package retry

import (
	"testing"
	"time"
)

func TestNominalDoublesUpToTheCap(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for i, w := range want {
		if got := b.Nominal(i + 1); got != w*time.Millisecond {
			t.Errorf("Nominal(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := b.Nominal(1000); got != 5*time.Second {
		t.Errorf("Nominal(1000) = %v, want the 5s cap", got)
	}
}

func TestZeroBackoffUsesTheDefaults(t *testing.T) {
	var b Backoff
	if b.Nominal(1) != DefaultInitial || b.Nominal(2) != 2*DefaultInitial || b.Nominal(100) != DefaultMax {
		t.Errorf("defaults: %v %v %v", b.Nominal(1), b.Nominal(2), b.Nominal(100))
	}
}

func TestJitterStaysWithinHalfToFullNominal(t *testing.T) {
	for _, tc := range []struct {
		rand float64
		want time.Duration
	}{
		{0, 400 * time.Millisecond},
		{0.5, 600 * time.Millisecond},
		{0.999999, 799999 * time.Microsecond},
	} {
		b := Backoff{Initial: 100 * time.Millisecond, Rand: func() float64 { return tc.rand }}
		if got := b.Delay(4, 0).Truncate(time.Microsecond); got != tc.want {
			t.Errorf("rand %v: Delay(4) = %v, want %v", tc.rand, got, tc.want)
		}
	}
	// With the real source: always inside [d/2, d].
	b := Backoff{Initial: 100 * time.Millisecond}
	for range 1000 {
		if d := b.Delay(3, 0); d < 200*time.Millisecond || d > 400*time.Millisecond {
			t.Fatalf("Delay(3) = %v, outside [200ms, 400ms]", d)
		}
	}
}

func TestRetryAfterIsAFloorEvenAboveTheCap(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Rand: func() float64 { return 0 }}
	if got := b.Delay(1, 3*time.Second); got != 3*time.Second {
		t.Errorf("Delay with Retry-After 3s = %v, want 3s", got)
	}
	if got := b.Delay(5, 10*time.Millisecond); got != 500*time.Millisecond {
		t.Errorf("a shorter Retry-After does not shorten the backoff: %v, want 500ms", got)
	}
}
