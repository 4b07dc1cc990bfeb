// Package cache is the Redis side of a purge: it unlinks the cached keys a
// plan names and empties the tag sets that index cached keys, on a single
// Redis node, Sentinel or a Redis Cluster.
package cache

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Invalidator unlinks cache keys and tag sets in Redis.
type Invalidator struct {
	client redis.UniversalClient
}

// New returns an Invalidator that works through client, which may be a
// single-node, Sentinel (failover) or Cluster client.
func New(client redis.UniversalClient) *Invalidator {
	return &Invalidator{client: client}
}

// Name is the backend's name in answers, logs and metrics.
func (inv *Invalidator) Name() string { return "redis" }

// Invalidation says what one Invalidate call did.
type Invalidation struct {
	// Keys is how many distinct keys were asked for (names also given as
	// sets are counted as sets only).
	Keys int
	// Sets is how many distinct tag sets were asked for.
	Sets int
	// Members is how many distinct member keys were found in those sets.
	Members int
	// Removed is how many keys existed and were removed: asked keys, set
	// members and the sets themselves.
	Removed int64
}

// Invalidate removes keys and, for every tag set in sets (a Redis SET whose
// members are key names), the member keys and the set itself. Keys are
// UNLINKed, never DELeted, so Redis frees large values off its main thread.
// Missing keys and sets are not an error; they are just not counted in
// Removed. Empty input makes no call to Redis.
//
// A tag set is handled in three steps, each pipelined for all sets:
// SSCAN (in chunks, see readMembers), then UNLINK of the members (with the
// asked keys), then SREM of exactly the members that were read. Redis drops a set that SREM empties,
// so the set disappears, unless a member was added since SMEMBERS: that
// member stays in the set, to be found by the next purge, instead of being
// forgotten while its key still holds a cached value. The set is trimmed
// only after its members are gone, so a failure never leaves a cached key
// that no tag set points to. No script or transaction spans a set and its
// members, because in a Cluster they may live in different slots.
//
// On error the Invalidation still counts what was done before the failure.
func (inv *Invalidator) Invalidate(ctx context.Context, keys, sets []string) (Invalidation, error) {
	sets = unique(sets)
	keys = withoutAny(unique(keys), sets)
	res := Invalidation{Keys: len(keys), Sets: len(sets)}
	if len(keys) == 0 && len(sets) == 0 {
		return res, nil
	}

	members, err := inv.readMembers(ctx, sets)
	if err != nil {
		return res, err
	}
	memberKeys := unique(concat(members))
	res.Members = len(memberKeys)

	targets := unique(concat([][]string{keys, memberKeys}))
	removed, err := inv.unlink(ctx, targets)
	res.Removed += removed
	if err != nil {
		return res, err
	}

	gone, err := inv.trimSets(ctx, sets, members)
	res.Removed += gone
	return res, err
}

// scanCount is the COUNT hint of one SSCAN: a tag set of 200,000 members
// is read in a few hundred short commands, never one SMEMBERS that would
// hold Redis up and build one huge reply.
const scanCount = 1000

// readMembers returns the members of each set, in the order of sets, each
// without duplicates; a missing set has none. The sets are read together,
// one pipeline of SSCAN per round, until every cursor is back at 0.
func (inv *Invalidator) readMembers(ctx context.Context, sets []string) ([][]string, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	members := make([][]string, len(sets))
	cursors := make([]uint64, len(sets))
	active := make([]int, len(sets)) // indexes of sets still being scanned
	for i := range sets {
		active[i] = i
	}
	for len(active) > 0 {
		cmds := make([]*redis.ScanCmd, len(active))
		_, err := inv.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for j, i := range active {
				cmds[j] = pipe.SScan(ctx, sets[i], cursors[i], "", scanCount)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %d tag sets: %w", len(sets), firstError(err, cmds))
		}
		next := active[:0]
		for j, i := range active {
			page, cursor := cmds[j].Val()
			members[i] = append(members[i], page...)
			if cursors[i] = cursor; cursor != 0 {
				next = append(next, i)
			}
		}
		active = next
	}
	for i := range members {
		members[i] = unique(members[i]) // SSCAN may return a member twice
	}
	return members, nil
}

// unlink UNLINKs keys in one pipeline and returns how many existed.
func (inv *Invalidator) unlink(ctx context.Context, keys []string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	batches := batchesFor(inv.client, keys)
	cmds := make([]*redis.IntCmd, len(batches))
	_, err := inv.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, batch := range batches {
			cmds[i] = pipe.Unlink(ctx, batch...)
		}
		return nil
	})
	removed := sumSucceeded(cmds)
	if err != nil {
		return removed, fmt.Errorf("unlink %d keys: %w", len(keys), firstError(err, cmds))
	}
	return removed, nil
}

// trimSets SREMs from each set the members read earlier, in one pipeline,
// and returns how many sets no longer exist afterwards.
func (inv *Invalidator) trimSets(ctx context.Context, sets []string, members [][]string) (int64, error) {
	var trimmed []string
	var exists []*redis.IntCmd
	var srems []*redis.IntCmd
	_, err := inv.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, set := range sets {
			if len(members[i]) == 0 {
				continue // missing or empty: nothing to trim
			}
			for _, batch := range chunk(members[i], maxKeysPerCommand) {
				srems = append(srems, pipe.SRem(ctx, set, toArgs(batch)...))
			}
			trimmed = append(trimmed, set)
			exists = append(exists, pipe.Exists(ctx, set))
		}
		return nil
	})
	if len(trimmed) == 0 {
		return 0, nil
	}
	var gone int64
	for _, cmd := range exists {
		if cmd.Err() == nil && cmd.Val() == 0 {
			gone++
		}
	}
	if err != nil {
		return gone, fmt.Errorf("trim %d tag sets: %w", len(trimmed), firstError(err, append(srems, exists...)))
	}
	return gone, nil
}

// firstError prefers the error of a command, which names the failing
// command, over the pipeline's own.
func firstError[C redis.Cmder](pipelineErr error, cmds []C) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return pipelineErr
}

func sumSucceeded(cmds []*redis.IntCmd) int64 {
	var n int64
	for _, cmd := range cmds {
		if cmd.Err() == nil {
			n += cmd.Val()
		}
	}
	return n
}

// withoutAny returns items that are not in drop.
func withoutAny(items, drop []string) []string {
	if len(drop) == 0 {
		return items
	}
	skip := make(map[string]bool, len(drop))
	for _, d := range drop {
		skip[d] = true
	}
	out := items[:0:0]
	for _, item := range items {
		if !skip[item] {
			out = append(out, item)
		}
	}
	return out
}

func concat(lists [][]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func toArgs(items []string) []any {
	args := make([]any, len(items))
	for i, item := range items {
		args[i] = item
	}
	return args
}
