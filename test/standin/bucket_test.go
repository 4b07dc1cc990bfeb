package standin

import (
	"testing"
	"time"
)

func TestNilBucketNeverThrottles(t *testing.T) {
	b := NewBucket(0, 10, 1)
	if b != nil {
		t.Fatal("rate 0 gave a bucket")
	}
	if ok, wait := b.Take(time.Now(), 1000); !ok || wait != 0 {
		t.Errorf("nil Take = %v, %v", ok, wait)
	}
}

func TestBucketDefaultBurst(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		burst    int
		minBurst int
		want     int
	}{
		{rate: 2.5, minBurst: 1, want: 3},
		{rate: 0.2, minBurst: 1, want: 1},
		{rate: 5, minBurst: 100, want: 100},
		{rate: 5, burst: 7, minBurst: 100, want: 7},
	} {
		if got := NewBucket(tc.rate, tc.burst, tc.minBurst).Remaining(); got != tc.want {
			t.Errorf("NewBucket(%v, %d, %d) holds %d, want %d", tc.rate, tc.burst, tc.minBurst, got, tc.want)
		}
	}
}

func TestBucketTakeAndRefill(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := NewBucket(10, 5, 1) // 10 tokens a second, 5 at most
	if ok, _ := b.Take(t0, 5); !ok {
		t.Fatal("full bucket refused 5")
	}
	if b.Remaining() != 0 || b.UntilFull() != 500*time.Millisecond {
		t.Errorf("after 5: remaining %d, until full %v", b.Remaining(), b.UntilFull())
	}
	ok, wait := b.Take(t0, 2)
	if ok || wait != 200*time.Millisecond {
		t.Errorf("empty Take(2) = %v, %v; want refused, 200ms", ok, wait)
	}
	if ok, _ := b.Take(t0.Add(200*time.Millisecond), 2); !ok {
		t.Error("refilled bucket refused 2")
	}
	// Refill stops at the burst; a call larger than it never passes.
	ok, wait = b.Take(t0.Add(time.Hour), 6)
	if ok || wait != 100*time.Millisecond {
		t.Errorf("Take(6) over burst 5 = %v, %v; want refused, 100ms", ok, wait)
	}
	if b.Remaining() != 5 {
		t.Errorf("refused Take spent tokens: %d left", b.Remaining())
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1", 1500 * time.Millisecond: "2", time.Millisecond: "1", 0: "0",
	} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %q, want %q", d, got, want)
		}
	}
}
