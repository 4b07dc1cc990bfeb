package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func rec(i int, page, status string) Record {
	return Record{Time: time.Unix(1_800_000_000+int64(i), 0).UTC(), Source: "hook", ID: fmt.Sprintf("e%d", i), Page: page, Status: status}
}

func ids(recs []Record) string {
	s := ""
	for _, r := range recs {
		s += r.ID + " "
	}
	return s
}

func TestStreamIsCappedAndListedNewestFirst(t *testing.T) {
	prefix := redistest.Prefix(t)
	rdb := redistest.Client(t)
	l := New(rdb, Config{Stream: prefix + "audit", MaxLen: 10, Buffer: 1000, Memory: 5})
	for i := range 300 {
		status := "purged"
		if i%10 == 0 {
			status = "failed"
		}
		l.Record(rec(i, fmt.Sprintf("p%d", i%3), status))
	}
	l.Flush(context.Background())
	n, err := rdb.XLen(context.Background(), prefix+"audit").Result()
	if err != nil || n < 10 || n > 200 {
		t.Errorf("stream length %d (%v): want about 10 (MAXLEN ~)", n, err)
	}
	got := l.List(context.Background(), Filter{Limit: 3})
	if got.From != "redis" || ids(got.Records) != "e299 e298 e297 " {
		t.Errorf("newest 3: %s from %s", ids(got.Records), got.From)
	}
	if got := l.List(context.Background(), Filter{Limit: 1, PageID: "p2", Status: "failed"}); ids(got.Records) != "e290 " {
		t.Errorf("p2 failed: %s", ids(got.Records))
	}
}

func TestMemoryOnlyKeepsTheLastRecords(t *testing.T) {
	l := New(nil, Config{Buffer: 100, Memory: 3})
	for i := range 5 {
		l.Record(rec(i, "p0", "purged"))
	}
	l.Flush(context.Background())
	got := l.List(context.Background(), Filter{})
	if got.From != "memory" || ids(got.Records) != "e4 e3 e2 " {
		t.Errorf("ring: %s from %s", ids(got.Records), got.From)
	}
}

func TestRecordNeverBlocksAndCountsDrops(t *testing.T) {
	var dropped atomic.Int64
	l := New(nil, Config{Buffer: 2, Memory: 10, OnDrop: func() { dropped.Add(1) }})
	done := make(chan struct{})
	go func() { // no writer runs: the queue fills at 2
		for i := range 5 {
			l.Record(rec(i, "p0", "purged"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	if dropped.Load() != 3 {
		t.Errorf("dropped %d, want 3", dropped.Load())
	}
}

func TestRunWritesWhatIsQueuedWhenStopped(t *testing.T) {
	prefix := redistest.Prefix(t)
	rdb := redistest.Client(t)
	l := New(rdb, Config{Stream: prefix + "audit", MaxLen: 100, Buffer: 10, Memory: 10})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	l.Record(rec(1, "p0", "purged"))
	l.Record(rec(2, "p0", "purged"))
	cancel()
	<-done
	if n, _ := rdb.XLen(context.Background(), prefix+"audit").Result(); n != 2 {
		t.Errorf("stream holds %d records after stop, want 2", n)
	}
}

// The ring overwrites its oldest record once full, whatever the batches'
// sizes, and lists newest first with filters and limits, around the wrap.
func TestRingWrapsAroundNewestFirst(t *testing.T) {
	l := New(nil, Config{Buffer: 100, Memory: 4})
	ctx := context.Background()
	for i := range 11 {
		status := "purged"
		if i%2 == 1 {
			status = "failed"
		}
		l.Record(rec(i, "p0", status))
		if i%3 == 0 { // batches of 1 and 3 records
			l.Flush(ctx)
		}
	}
	l.Flush(ctx)
	if got := ids(l.List(ctx, Filter{}).Records); got != "e10 e9 e8 e7 " {
		t.Errorf("after 11 records in a ring of 4: %s", got)
	}
	if got := ids(l.List(ctx, Filter{Status: "failed"}).Records); got != "e9 e7 " {
		t.Errorf("failed only: %s", got)
	}
	if got := ids(l.List(ctx, Filter{Limit: 2}).Records); got != "e10 e9 " {
		t.Errorf("limit 2: %s", got)
	}
}
