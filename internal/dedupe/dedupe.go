// Package dedupe remembers the event ids that were purged successfully, so
// that a sender's retry or a replayed delivery is answered "duplicate"
// without purging again.
package dedupe

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/redisdo"
)

// DefaultTTL outlives the Standard Webhooks tolerance (5 minutes) with a
// wide margin: past the tolerance a replay fails its signature check anyway.
const DefaultTTL = 30 * time.Minute

// Store records purged event ids in Redis.
type Store struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// New returns a Store keeping ids under prefix for ttl (DefaultTTL when 0).
func New(client redis.UniversalClient, prefix string, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{client: client, prefix: prefix, ttl: ttl}
}

// Seen reports whether id was already purged successfully. It gives up when
// ctx ends, even on the auto-pipeliner (see redisdo.Do).
func (s *Store) Seen(ctx context.Context, id string) (bool, error) {
	cmd := redis.NewIntCmd(ctx, "exists", s.prefix+id)
	if err := redisdo.Do(ctx, s.client, cmd); err != nil {
		return false, fmt.Errorf("look up event id: %w", err)
	}
	return cmd.Val() == 1, nil
}

// MarkPurged records that id was purged. It is called only after success,
// so that a failed event can be retried. It reports false when the id was
// already recorded (a concurrent delivery of the same event won the race).
func (s *Store) MarkPurged(ctx context.Context, id string) (bool, error) {
	cmd := redis.NewBoolCmd(ctx, "set", s.prefix+id, time.Now().UTC().Format(time.RFC3339Nano), "px", s.ttl.Milliseconds(), "nx")
	if err := redisdo.Do(ctx, s.client, cmd); err != nil {
		return false, fmt.Errorf("record event id: %w", err)
	}
	return cmd.Val(), nil
}
