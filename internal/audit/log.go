package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config configures a Log.
type Config struct {
	// Stream is the Redis Stream's key.
	Stream string
	// MaxLen caps the stream, approximately (XADD MAXLEN ~).
	MaxLen int64
	// Buffer is the writer's queue; a record that finds it full is dropped.
	Buffer int
	// Memory is how many records the in-memory ring keeps.
	Memory int
	// OnDrop, OnFallback (may be nil) count dropped records and records
	// kept in memory only.
	OnDrop, OnFallback func()
	Log                *slog.Logger
}

// Timeouts of Redis calls and the pause after a failed write, during which
// records go to memory at once so that a dead Redis cannot back the queue up.
const (
	writeTimeout = time.Second
	readTimeout  = 2 * time.Second
	downPause    = 2 * time.Second
	drainTimeout = 2 * time.Second
)

// field is the stream entry's one field: the record as JSON.
const field = "r"

// Log is the audit trail. Record is safe for concurrent use and never
// blocks; Run is the one writer.
type Log struct {
	rdb   redis.UniversalClient
	cfg   Config
	queue chan Record

	mu sync.Mutex
	// ring holds the last cfg.Memory records: it grows to cfg.Memory, then
	// each record overwrites the oldest, at ring[next].
	ring []entry
	next int

	// writer serializes Run and Flush; batch and buf are theirs, reused
	// from batch to batch.
	writer sync.Mutex
	batch  []Record
	buf    bytes.Buffer
}

// entry is a ring slot; saved says Redis has the record too.
type entry struct {
	rec   Record
	saved bool
}

// New returns a Log writing to rdb (nil: memory only). Start Run.
func New(rdb redis.UniversalClient, cfg Config) *Log {
	if cfg.Buffer < 1 {
		cfg.Buffer = 1
	}
	if cfg.Memory < 1 {
		cfg.Memory = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Log{rdb: rdb, cfg: cfg, queue: make(chan Record, cfg.Buffer)}
}

// Record queues r for the writer. When the queue is full, r is dropped and
// counted: the hot path never waits on the audit trail.
func (l *Log) Record(r Record) {
	select {
	case l.queue <- r:
	default:
		if l.cfg.OnDrop != nil {
			l.cfg.OnDrop()
		}
	}
}

// Run writes queued records until ctx ends, then writes what is still
// queued (bounded by a short timeout) and returns.
func (l *Log) Run(ctx context.Context) {
	var downUntil time.Time
	for {
		select {
		case r := <-l.queue:
			l.writeQueued(context.Background(), r, &downUntil)
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			l.Flush(dctx)
			return
		}
	}
}

// Flush writes every queued record now, for a caller without Run (the CLI).
func (l *Log) Flush(ctx context.Context) {
	var downUntil time.Time
	for {
		select {
		case r := <-l.queue:
			l.writeQueued(ctx, r, &downUntil)
		default:
			return
		}
	}
}

// writeQueued writes first and whatever else is queued.
func (l *Log) writeQueued(ctx context.Context, first Record, downUntil *time.Time) {
	l.writer.Lock()
	defer l.writer.Unlock()
	l.write(ctx, l.drain(first), downUntil)
}

// maxBatch bounds the records one pipeline writes.
const maxBatch = 256

// drain returns first and whatever else is queued, up to maxBatch: under
// load, one round trip writes many records.
func (l *Log) drain(first Record) []Record {
	batch := append(l.batch[:0], first)
	defer func() { l.batch = batch }()
	for len(batch) < maxBatch {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// write adds the records to the stream in one pipeline, and to the ring
// either way.
func (l *Log) write(ctx context.Context, batch []Record, downUntil *time.Time) {
	saved := false
	if l.rdb != nil && time.Now().After(*downUntil) {
		err := l.xadd(ctx, batch)
		if err == nil {
			saved = true
		} else {
			*downUntil = time.Now().Add(downPause)
			l.cfg.Log.Warn("audit trail: Redis write failed, keeping records in memory", "err", err)
		}
	}
	if !saved && l.cfg.OnFallback != nil {
		for range batch {
			l.cfg.OnFallback()
		}
	}
	l.mu.Lock()
	for _, r := range batch {
		l.keep(entry{rec: r, saved: saved})
	}
	l.mu.Unlock()
}

func (l *Log) xadd(ctx context.Context, batch []Record) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	pipe := l.rdb.Pipeline()
	// Every record is encoded into one buffer, reused from batch to batch:
	// an entry's value is its slice of it (growing the buffer leaves the
	// slices taken before intact).
	l.buf.Reset()
	enc := json.NewEncoder(&l.buf)
	for i := range batch {
		start := l.buf.Len()
		if err := enc.Encode(&batch[i]); err != nil {
			return fmt.Errorf("encode audit record: %w", err)
		}
		b := l.buf.Bytes()[start : l.buf.Len()-1] // without Encode's newline
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: l.cfg.Stream, MaxLen: l.cfg.MaxLen, Approx: true, Values: []any{field, b}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("write %d audit records: %w", len(batch), err)
	}
	return nil
}

// Listing is a page of records, newest first.
type Listing struct {
	Records []Record `json:"records"`
	// From is "redis", or "memory" when Redis could not be read: only this
	// process's recent records are then listed.
	From string `json:"from"`
	// Warning says why the listing may be incomplete.
	Warning string `json:"warning,omitempty"`
}

// List returns the records matching f, newest first: the stream's, plus
// the ones this process could only keep in memory. When Redis cannot be
// read, the in-memory ring alone.
func (l *Log) List(ctx context.Context, f Filter) Listing {
	limit := f.limit()
	if l.rdb != nil {
		recs, err := l.fromStream(ctx, f, limit)
		if err == nil {
			recs = append(recs, l.fromRing(f, limit, true)...)
			sortNewestFirst(recs)
			return Listing{Records: head(recs, limit), From: "redis"}
		}
		l.cfg.Log.Warn("audit trail: Redis read failed, listing memory", "err", err)
		return Listing{Records: l.fromRing(f, limit, false), From: "memory",
			Warning: "Redis unreadable: only this instance's recent purges are listed"}
	}
	return Listing{Records: l.fromRing(f, limit, false), From: "memory"}
}

// fromStream reads the stream newest first until limit records match or
// MaxLen entries were scanned.
func (l *Log) fromStream(ctx context.Context, f Filter, limit int) ([]Record, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	const page = 200
	out := []Record{}
	start, scanned := "+", int64(0)
	for scanned < l.cfg.MaxLen+page {
		msgs, err := l.rdb.XRevRangeN(ctx, l.cfg.Stream, start, "-", page).Result()
		if err != nil {
			return nil, fmt.Errorf("read audit stream: %w", err)
		}
		for _, m := range msgs {
			s, _ := m.Values[field].(string)
			var r Record
			if json.Unmarshal([]byte(s), &r) != nil {
				continue
			}
			if f.match(r) {
				out = append(out, r)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(msgs) < page {
			return out, nil
		}
		scanned += int64(len(msgs))
		start = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

// keep puts e in the ring, over the oldest record once it is full. Called
// with l.mu held.
func (l *Log) keep(e entry) {
	if len(l.ring) < l.cfg.Memory {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
}

// fromRing returns the ring's records matching f, newest first; with
// unsavedOnly, only those Redis does not have.
func (l *Log) fromRing(f Filter, limit int, unsavedOnly bool) []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Record{}
	n := len(l.ring)
	for k := 1; k <= n && len(out) < limit; k++ {
		// Newest first: the slot before next, backwards around the ring.
		e := l.ring[(l.next-k+n)%n]
		if (!unsavedOnly || !e.saved) && f.match(e.rec) {
			out = append(out, e.rec)
		}
	}
	return out
}

func sortNewestFirst(recs []Record) {
	slices.SortStableFunc(recs, func(a, b Record) int { return b.Time.Compare(a.Time) })
}

func head(recs []Record, n int) []Record {
	if len(recs) > n {
		return recs[:n]
	}
	return recs
}
