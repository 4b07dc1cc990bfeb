package dedupe

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestSeenAfterMark(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	s := New(rdb, redistest.Prefix(t), time.Minute)
	if seen, err := s.Seen(ctx, "msg_1"); err != nil || seen {
		t.Fatalf("new id: seen=%v err=%v", seen, err)
	}
	if first, err := s.MarkPurged(ctx, "msg_1"); err != nil || !first {
		t.Fatalf("first mark: %v %v", first, err)
	}
	if first, _ := s.MarkPurged(ctx, "msg_1"); first {
		t.Error("second mark reported first")
	}
	if seen, _ := s.Seen(ctx, "msg_1"); !seen {
		t.Error("marked id not seen")
	}
	if seen, _ := s.Seen(ctx, "msg_2"); seen {
		t.Error("another id seen")
	}
	if v := rdb.Get(ctx, s.prefix+"msg_1").Val(); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(v) {
		t.Errorf("mark = %q, want the time of the purge, UTC, to the millisecond", v)
	} else if at, _ := time.Parse(markTime, v); time.Since(at) > time.Minute || time.Until(at) > time.Second {
		t.Errorf("mark = %q, want about now", v)
	}
	ttl := rdb.TTL(ctx, s.prefix+"msg_1").Val()
	if ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("ttl = %v, want about 1m", ttl)
	}
}

func TestRedisDownIsAnError(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := redistest.ClientOf(t, srv.Addr())
	s := New(rdb, "p:", 0)
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.Seen(ctx, "x"); err == nil {
		t.Error("Seen with Redis down: no error")
	}
}

// TestMarksOfAMillisecondShareTheirValue: the marks of one millisecond
// share one value, formatted once; the next millisecond has its own.
func TestMarksOfAMillisecondShareTheirValue(t *testing.T) {
	s := New(nil, "p:", 0)
	at := time.Date(2026, 12, 3, 14, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
	a, b := s.markValue(at), s.markValue(at.Add(500*time.Microsecond))
	if a != "2026-12-03T13:00:00.123Z" || b != a {
		t.Errorf("marks of one millisecond = %v, %v; want 2026-12-03T13:00:00.123Z twice", a, b)
	}
	if allocs := testing.AllocsPerRun(100, func() { s.markValue(at) }); allocs != 0 {
		t.Errorf("%v allocations for a millisecond's second mark, want 0", allocs)
	}
	if c := s.markValue(at.Add(time.Millisecond)); c != "2026-12-03T13:00:00.124Z" {
		t.Errorf("next millisecond's mark = %v", c)
	}
}
