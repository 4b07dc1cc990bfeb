package cache

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/batch"
)

// Coalescer batches the invalidations of concurrent events: keys (and tag
// sets) that several events want gone are unlinked once, in pipelines of up
// to maxBatch, and a key whose UNLINK is already in flight when an event
// arrives is unlinked again after it (as in package batch).
type Coalescer struct {
	keys *batch.Queue
	sets *batch.Queue
}

// maxBatch bounds the keys of one pipeline.
const maxBatch = 512

// One pipeline in flight per queue: Redis answers in well under a
// millisecond, so the keys that arrive meanwhile wait little and go out
// together in the next, fuller pipeline.

// NewCoalescer returns a Coalescer over an Invalidator on client.
func NewCoalescer(client redis.UniversalClient) *Coalescer {
	inv := New(client)
	opts := func(span string, flush batch.Flush) batch.Options {
		return batch.Options{MaxItems: maxBatch, MaxInflight: 1, Flush: flush, CallSpan: span}
	}
	return &Coalescer{
		keys: batch.New(opts("redis unlink keys", func(ctx context.Context, keys []string) error {
			_, err := inv.Invalidate(ctx, keys, nil)
			return err
		})),
		sets: batch.New(opts("redis unlink key sets", func(ctx context.Context, sets []string) error {
			_, err := inv.Invalidate(ctx, nil, sets)
			return err
		})),
	}
}

// Name is the backend's name in answers, logs and metrics.
func (c *Coalescer) Name() string { return "redis" }

// Invalidate unlinks keys and tag sets (members and set) and returns once
// every one was done, or ctx ended. Removed is not counted: a batch serves
// several events.
func (c *Coalescer) Invalidate(ctx context.Context, keys, sets []string) (Invalidation, error) {
	sets = unique(sets)
	keys = withoutAny(unique(keys), sets)
	res := Invalidation{Keys: len(keys), Sets: len(sets)}
	var err error
	switch {
	case len(sets) == 0:
		err = c.keys.Do(ctx, keys).Err
	case len(keys) == 0:
		err = c.sets.Do(ctx, sets).Err
	default:
		err = c.both(ctx, keys, sets)
	}
	// Joined even when only one queue ran, as in both: the same kind of
	// error whatever the keys.
	return res, errors.Join(err)
}

// both unlinks keys and sets, the sets from a goroutine of their own, so
// that the two queues' pipelines go out together; the error joins both
// queues' errors.
func (c *Coalescer) both(ctx context.Context, keys, sets []string) error {
	var ko, so batch.Tally
	var wg sync.WaitGroup
	wg.Go(func() { so = c.sets.Do(ctx, sets) })
	ko = c.keys.Do(ctx, keys)
	wg.Wait()
	return errors.Join(ko.Err, so.Err)
}
