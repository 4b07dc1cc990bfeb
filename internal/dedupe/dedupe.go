// Package dedupe remembers the event ids that were purged successfully, so
// that a sender's retry or a replayed delivery is answered "duplicate"
// without purging again.
package dedupe

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/rediscmd"
)

// DefaultTTL outlives the Standard Webhooks tolerance (5 minutes) with a
// wide margin: past the tolerance a replay fails its signature check anyway.
const DefaultTTL = 30 * time.Minute

// Store records purged event ids in Redis.
type Store struct {
	client redis.UniversalClient
	prefix string
	// ttlArg is the marks' TTL in milliseconds, boxed once for every mark.
	ttlArg any
	// stamp is the latest mark's value, which the marks of the same
	// millisecond share (see markValue).
	stamp atomic.Pointer[stamp]
}

// stamp is a mark's value and the millisecond it names.
type stamp struct {
	ms    int64
	value any
}

// New returns a Store keeping ids under prefix for ttl (DefaultTTL when 0).
func New(client redis.UniversalClient, prefix string, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{client: client, prefix: prefix, ttlArg: ttl.Milliseconds()}
}

// Seen reports whether id was already purged successfully. It gives up when
// ctx ends, even on the auto-pipeliner (see rediscmd.Do).
func (s *Store) Seen(ctx context.Context, id string) (bool, error) {
	cmd := redis.NewIntCmd(ctx, "exists", s.prefix+id)
	if err := rediscmd.Do(ctx, s.client, cmd); err != nil {
		return false, fmt.Errorf("look up event id: %w", err)
	}
	return cmd.Val() == 1, nil
}

// MarkPurged records that id was purged, with the time it was, to the
// millisecond. It is called only after success, so that a failed event can
// be retried. It reports false when the id was already recorded (a
// concurrent delivery of the same event won the race).
func (s *Store) MarkPurged(ctx context.Context, id string) (bool, error) {
	cmd := redis.NewBoolCmd(ctx, "set", s.prefix+id, s.markValue(time.Now()), "px", s.ttlArg, "nx")
	if err := rediscmd.Do(ctx, s.client, cmd); err != nil {
		return false, fmt.Errorf("record event id: %w", err)
	}
	return cmd.Val(), nil
}

// markTime is a mark's value: a UTC RFC 3339 time to the millisecond.
const markTime = "2006-01-02T15:04:05.000Z07:00"

// markValue is the value of a mark made at now, formatted and boxed once a
// millisecond: in a storm, many marks share it.
func (s *Store) markValue(now time.Time) any {
	ms := now.UnixMilli()
	if st := s.stamp.Load(); st != nil && st.ms == ms {
		return st.value
	}
	st := &stamp{ms: ms, value: time.UnixMilli(ms).UTC().Format(markTime)}
	s.stamp.Store(st)
	return st.value
}
