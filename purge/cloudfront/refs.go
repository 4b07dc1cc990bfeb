package cloudfront

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Record is one invalidation batch that a purge's paths went in: what a
// re-drive of that purge needs so as to finish the same invalidation
// instead of creating another.
type Record struct {
	Distribution    string   `json:"d"`
	CallerReference string   `json:"c"`
	Paths           []string `json:"p"`
	// ID is the invalidation's id, once CloudFront's answer said it.
	ID string `json:"i,omitempty"`
}

// Refs remembers, per purge.Request.Ref, the batches its paths went in.
// A batch is recorded before it is sent, so that a re-drive after a lost
// answer sends the very same batch with the same CallerReference, which
// CloudFront answers with the invalidation it made the first time.
type Refs interface {
	// Add records that the purges refs have paths in rec's batch.
	Add(ctx context.Context, refs []string, rec Record) error
	// SetID records the invalidation id of the batch callerRef.
	SetID(ctx context.Context, rec Record) error
	// Load returns the batches of ref.
	Load(ctx context.Context, ref string) ([]Record, error)
}

// memRefs are Refs in memory, for one process.
type memRefs struct {
	ttl     time.Duration
	mu      sync.Mutex
	batches map[string]Record // callerRef → batch
	refs    map[string]memRef
}

type memRef struct {
	batches []string
	at      time.Time
}

func newMemRefs(ttl time.Duration) *memRefs {
	return &memRefs{ttl: ttl, batches: map[string]Record{}, refs: map[string]memRef{}}
}

func (m *memRefs) Add(_ context.Context, refs []string, rec Record) error {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for r, e := range m.refs {
		if now.Sub(e.at) > m.ttl {
			delete(m.refs, r)
		}
	}
	m.batches[rec.CallerReference] = rec
	for _, r := range refs {
		e := m.refs[r]
		e.batches, e.at = append(e.batches, rec.CallerReference), now
		m.refs[r] = e
	}
	return nil
}

func (m *memRefs) SetID(_ context.Context, rec Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches[rec.CallerReference] = rec
	return nil
}

func (m *memRefs) Load(_ context.Context, ref string) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, c := range m.refs[ref].batches {
		out = append(out, m.batches[c])
	}
	return out, nil
}

// RedisRefs are Refs in Redis, shared by every instance, so that whichever
// instance re-drives a purge finds its invalidations: a string per batch
// (prefix+"batch:"+CallerReference, its Record as JSON) and a set per
// purge (prefix+"ref:"+Ref, its batches' CallerReferences), each expiring
// after TTL.
type RedisRefs struct {
	RDB    redis.UniversalClient
	Prefix string
	TTL    time.Duration
}

var _ Refs = RedisRefs{}

func (r RedisRefs) batchKey(callerRef string) string { return r.Prefix + "batch:" + callerRef }
func (r RedisRefs) refKey(ref string) string         { return r.Prefix + "ref:" + ref }

// Add implements Refs.
func (r RedisRefs) Add(ctx context.Context, refs []string, rec Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	pipe := r.RDB.Pipeline()
	pipe.Set(ctx, r.batchKey(rec.CallerReference), data, r.TTL)
	for _, ref := range refs {
		pipe.SAdd(ctx, r.refKey(ref), rec.CallerReference)
		pipe.Expire(ctx, r.refKey(ref), r.TTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("record invalidation batch in redis: %w", err)
	}
	return nil
}

// SetID implements Refs.
func (r RedisRefs) SetID(ctx context.Context, rec Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := r.RDB.Set(ctx, r.batchKey(rec.CallerReference), data, r.TTL).Err(); err != nil {
		return fmt.Errorf("record invalidation id in redis: %w", err)
	}
	return nil
}

// Load implements Refs.
func (r RedisRefs) Load(ctx context.Context, ref string) ([]Record, error) {
	callerRefs, err := r.RDB.SMembers(ctx, r.refKey(ref)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the purge's invalidations from redis: %w", err)
	}
	var out []Record
	for _, c := range callerRefs {
		data, err := r.RDB.Get(ctx, r.batchKey(c)).Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read invalidation batch from redis: %w", err)
		}
		var rec Record
		if json.Unmarshal(data, &rec) == nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// DefaultRefsPrefix is the Redis prefix of RedisRefs in the app.
const DefaultRefsPrefix = "edgepurge:cloudfront:"
