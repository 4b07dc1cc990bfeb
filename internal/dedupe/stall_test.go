package dedupe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// TestBoundedWhenRedisStalls: on the auto-pipelined client the service
// uses (its deferred face), a stalled Redis costs Seen and MarkPurged their context's bound,
// not the client's socket timeouts: the duplicate check must never hold an
// event back for long.
func TestBoundedWhenRedisStalls(t *testing.T) {
	srv := redistest.StartServer(t)
	admin := redistest.ClientOf(t, srv.Addr())
	ap, err := redistest.ClientOf(t, srv.Addr()).AsyncAutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	s := New(ap, "stall:", time.Minute)
	ctx := context.Background()
	if _, err := s.Seen(ctx, "warm"); err != nil { // the pipeline's connection is up
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func(context.Context) error{
		"seen": func(ctx context.Context) error { _, err := s.Seen(ctx, "e1"); return err },
		"mark": func(ctx context.Context) error { _, err := s.MarkPurged(ctx, "e1"); return err },
	} {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
			t.Errorf("%s with Redis paused: %v after %v, want the context's deadline, at once", name, err, took)
		}
	}
}
