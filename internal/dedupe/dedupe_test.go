package dedupe

import (
	"context"
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
