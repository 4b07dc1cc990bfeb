package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config says where the journal lives and how it is re-driven.
type Config struct {
	// Stream is the journal's Redis Stream, Group the consumer group of
	// every instance, DeadStream the dead-letter stream.
	Stream, Group, DeadStream string
	// ClaimIdle is how long an entry may sit untouched with an instance
	// before another takes it over.
	ClaimIdle time.Duration
	// MaxAge is how long after its first failure an entry is re-driven
	// before it is moved to the dead-letter stream.
	MaxAge time.Duration
	// Poll is how often the re-driver looks for work.
	Poll time.Duration
	// MaxEntries caps the journal and MaxDead the dead-letter stream; 0
	// means no cap. A write to a full journal fails (ErrFull): the event
	// is answered 503, never dropped silently; an entry that would die
	// into a full dead-letter stream stays in the journal.
	MaxEntries, MaxDead int64
}

// ErrFull is the error of a write to a journal or dead-letter stream that
// holds its cap.
var ErrFull = errors.New("journal full")

// addCapped appends one entry to a stream unless it holds max entries;
// one key, so it runs on a Cluster too.
var addCapped = redis.NewScript(`
local max = tonumber(ARGV[1])
if max > 0 and redis.call('XLEN', KEYS[1]) >= max then
  return redis.error_reply('FULL stream holds its cap of ' .. ARGV[1] .. ' entries')
end
return redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[3])
`)

// add appends v to stream within max, mapping the cap's refusal to ErrFull.
func (j *Journal) add(ctx context.Context, stream string, max int64, v []byte) (string, error) {
	id, err := addCapped.Run(ctx, j.rdb, []string{stream}, max, field, v).Text()
	if err != nil && strings.HasPrefix(err.Error(), "FULL") {
		return "", fmt.Errorf("%w: %s holds %d entries (journal.max_entries, journal.max_dead)", ErrFull, stream, max)
	}
	return id, err
}

// field is the one field of a stream entry: the entry as JSON.
const field = "e"

// Timeouts of the journal's Redis calls: a write is on a request's path.
const (
	writeTimeout = time.Second
	opTimeout    = 2 * time.Second
)

// Journal is the journal's Redis side. It is safe for concurrent use.
type Journal struct {
	rdb redis.UniversalClient
	cfg Config
}

// New returns the journal in rdb.
func New(rdb redis.UniversalClient, cfg Config) *Journal {
	return &Journal{rdb: rdb, cfg: cfg}
}

// Config returns the journal's configuration.
func (j *Journal) Config() Config { return j.cfg }

// Write records e durably and returns its entry id.
func (j *Journal) Write(ctx context.Context, e Entry) (string, error) {
	b, err := encode(&e)
	if err != nil {
		return "", err
	}
	return j.write(ctx, b)
}

// encode is e as written to the stream: without its id, which the stream
// gives it.
func encode(e *Entry) ([]byte, error) {
	e.ID = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode journal entry: %w", err)
	}
	return b, nil
}

// write records an encoded entry durably and returns its entry id.
func (j *Journal) write(ctx context.Context, b []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	id, err := j.add(ctx, j.cfg.Stream, j.cfg.MaxEntries, b)
	if err != nil {
		return "", fmt.Errorf("write journal entry: %w", err)
	}
	return id, nil
}

// EnsureGroup creates the consumer group (and the stream) unless it
// exists. It reads from the stream's start, so entries written before the
// group existed (or after Redis lost it) are re-driven too.
func (j *Journal) EnsureGroup(ctx context.Context) error {
	err := j.rdb.XGroupCreateMkStream(ctx, j.cfg.Stream, j.cfg.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create journal consumer group: %w", err)
	}
	return nil
}

// isNoGroup reports whether err says the stream or group is missing
// (Redis restarted empty).
func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// Done removes a re-driven entry: acknowledged and deleted, so the
// stream's length is what is still to do.
func (j *Journal) Done(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pipe := j.rdb.Pipeline()
	pipe.XAck(ctx, j.cfg.Stream, j.cfg.Group, id)
	pipe.XDel(ctx, j.cfg.Stream, id)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("remove journal entry %s: %w", id, err)
	}
	return nil
}

// Bury moves e to the dead-letter stream with the reason, then removes it
// from the journal. The dead letter is written first: a failure in
// between leaves the entry in both, never in neither.
func (j *Journal) Bury(ctx context.Context, e Entry, reason string, at time.Time) error {
	d := Dead{Entry: e, JournalID: e.ID, DeadAt: at.UTC(), Reason: reason}
	d.ID = ""
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := j.add(ctx, j.cfg.DeadStream, j.cfg.MaxDead, b); err != nil {
		return fmt.Errorf("write dead letter of %s: %w", e.ID, err)
	}
	return j.Done(ctx, e.ID)
}

// Exhume removes a dead letter that was replayed successfully.
func (j *Journal) Exhume(ctx context.Context, deadID string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := j.rdb.XDel(ctx, j.cfg.DeadStream, deadID).Err(); err != nil {
		return fmt.Errorf("remove dead letter %s: %w", deadID, err)
	}
	return nil
}

// Stats are the journal's size and age, for the metrics.
type Stats struct {
	// Pending is how many entries are still to do.
	Pending int64
	// Dead is how many dead letters wait for a replay.
	Dead int64
	// Oldest is the first failure of the oldest entry; zero when empty.
	Oldest time.Time
}

// Stats reads the journal's length and its oldest entry.
func (j *Journal) Stats(ctx context.Context) (Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pipe := j.rdb.Pipeline()
	n := pipe.XLen(ctx, j.cfg.Stream)
	dead := pipe.XLen(ctx, j.cfg.DeadStream)
	first := pipe.XRangeN(ctx, j.cfg.Stream, "-", "+", 1)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Stats{}, fmt.Errorf("read journal stats: %w", err)
	}
	s := Stats{Pending: n.Val(), Dead: dead.Val()}
	if msgs := first.Val(); len(msgs) == 1 {
		if e, err := decode(msgs[0]); err == nil {
			s.Oldest = e.FirstFailure
		}
	}
	return s, nil
}

// listPage is how many entries one XRANGE reads.
const listPage = 500

// Entries returns the journal's entries, oldest first: all of them, or
// the one of id (none when it is gone).
func (j *Journal) Entries(ctx context.Context, id string) ([]Entry, error) {
	msgs, err := j.scan(ctx, j.cfg.Stream, id)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if e, err := decode(m); err == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Page is one page of a stream's listing.
type Page[T any] struct {
	// Items are the page's entries, oldest first.
	Items []T
	// Total is how many entries the stream holds.
	Total int64
	// Next is the id to list after for the next page; "" on the last.
	Next string
}

// page reads up to limit messages of stream after id after ("" from the
// start) and the stream's length.
func (j *Journal) page(ctx context.Context, stream, after string, limit int) ([]redis.XMessage, int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	start := "-"
	if after != "" {
		start = "(" + after
	}
	pipe := j.rdb.Pipeline()
	msgs := pipe.XRangeN(ctx, stream, start, "+", int64(limit)+1)
	n := pipe.XLen(ctx, stream)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, "", err
	}
	page, next := msgs.Val(), ""
	if len(page) > limit {
		page = page[:limit]
		next = page[limit-1].ID
	}
	return page, n.Val(), next, nil
}

// List returns a page of up to limit pending entries after the entry
// after ("" from the oldest), oldest first, each with the instance holding
// it and its attempts so far (the request's own plus every re-drive
// started).
func (j *Journal) List(ctx context.Context, after string, limit int) (Page[Pending], error) {
	msgs, total, next, err := j.page(ctx, j.cfg.Stream, after, limit)
	if err != nil {
		return Page[Pending]{}, fmt.Errorf("read journal: %w", err)
	}
	entries := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if e, err := decode(m); err == nil {
			entries = append(entries, e)
		}
	}
	ps, err := j.pending(ctx, entries)
	return Page[Pending]{Items: ps, Total: total, Next: next}, err
}

// ListDeadPage returns a page of up to limit dead letters after the one
// after ("" from the oldest), oldest first.
func (j *Journal) ListDeadPage(ctx context.Context, after string, limit int) (Page[Dead], error) {
	msgs, total, next, err := j.page(ctx, j.cfg.DeadStream, after, limit)
	if err != nil {
		return Page[Dead]{}, fmt.Errorf("read dead letters: %w", err)
	}
	return Page[Dead]{Items: decodeDead(msgs), Total: total, Next: next}, nil
}

// pending adds to entries their delivery state in the consumer group.
func (j *Journal) pending(ctx context.Context, entries []Entry) ([]Pending, error) {
	held := map[string]redis.XPendingExt{}
	if len(entries) > 0 {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		pend, err := j.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: j.cfg.Stream, Group: j.cfg.Group, Start: entries[0].ID, End: entries[len(entries)-1].ID, Count: int64(len(entries)),
		}).Result()
		if err != nil && !isNoGroup(err) {
			return nil, fmt.Errorf("read journal deliveries: %w", err)
		}
		for _, p := range pend {
			held[p.ID] = p
		}
	}
	out := make([]Pending, len(entries))
	for i, e := range entries {
		out[i] = Pending{Entry: e}
		if p, ok := held[e.ID]; ok {
			out[i].Consumer, out[i].IdleMS = p.Consumer, p.Idle.Milliseconds()
			out[i].Attempts += int(p.RetryCount)
		}
	}
	return out, nil
}

// ListDead returns the dead letters, oldest first: all, or the one of id.
func (j *Journal) ListDead(ctx context.Context, id string) ([]Dead, error) {
	msgs, err := j.scan(ctx, j.cfg.DeadStream, id)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return decodeDead(msgs), nil
}

// decodeDead reads stream messages as dead letters, skipping unreadable
// ones.
func decodeDead(msgs []redis.XMessage) []Dead {
	out := make([]Dead, 0, len(msgs))
	for _, m := range msgs {
		s, _ := m.Values[field].(string)
		var d Dead
		if json.Unmarshal([]byte(s), &d) != nil {
			continue
		}
		d.ID = m.ID
		out = append(out, d)
	}
	return out
}

// scan reads a whole stream, oldest first, or the one entry of id.
func (j *Journal) scan(ctx context.Context, stream, id string) ([]redis.XMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if id != "" {
		return j.rdb.XRange(ctx, stream, id, id).Result()
	}
	var out []redis.XMessage
	start := "-"
	for {
		msgs, err := j.rdb.XRangeN(ctx, stream, start, "+", listPage).Result()
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
		if len(msgs) < listPage {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// decode reads a stream message as an Entry.
func decode(m redis.XMessage) (Entry, error) {
	s, _ := m.Values[field].(string)
	var e Entry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return Entry{}, fmt.Errorf("decode journal entry %s: %w", m.ID, err)
	}
	e.ID = m.ID
	return e, nil
}
