package cache

import "github.com/redis/go-redis/v9"

// maxKeysPerCommand bounds the keys of one UNLINK or SREM, so that no single
// command is huge enough to hold up Redis or the connection.
const maxKeysPerCommand = 512

// batchesFor splits keys into the argument lists of the multi-key commands
// that client can run: on a Cluster every command holds keys of one hash
// slot only (else CROSSSLOT); on a Ring, which shards by key on the client
// side, one key per command; on a single node (or Sentinel) any keys.
func batchesFor(client redis.UniversalClient, keys []string) [][]string {
	switch client.(type) {
	case *redis.ClusterClient:
		var batches [][]string
		for _, group := range groupBySlot(keys) {
			batches = append(batches, chunk(group, maxKeysPerCommand)...)
		}
		return batches
	case *redis.Ring:
		return chunk(keys, 1)
	default:
		return chunk(keys, maxKeysPerCommand)
	}
}

// groupBySlot groups keys by hash slot, groups and keys in first-seen order.
func groupBySlot(keys []string) [][]string {
	index := make(map[int]int) // slot -> position in groups
	var groups [][]string
	for _, key := range keys {
		slot := keySlot(key)
		i, ok := index[slot]
		if !ok {
			i = len(groups)
			index[slot] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], key)
	}
	return groups
}

// chunk splits items into consecutive slices of at most size items.
func chunk(items []string, size int) [][]string {
	var chunks [][]string
	for len(items) > size {
		chunks = append(chunks, items[:size:size])
		items = items[size:]
	}
	if len(items) > 0 {
		chunks = append(chunks, items)
	}
	return chunks
}

// unique returns items without duplicates, in first-seen order: items
// itself when it has none (the caller must not change it), as a plan's
// sorted lists never do.
func unique(items []string) []string {
	if !hasDuplicates(items) {
		return items
	}
	seen := make(map[string]bool, len(items))
	out := make([]string, 0, len(items))
	for _, item := range items {
		if !seen[item] {
			seen[item] = true
			out = append(out, item)
		}
	}
	return out
}

// hasDuplicates reports whether an item appears twice: pairwise for a
// short list (no map), by a set otherwise.
func hasDuplicates(items []string) bool {
	if len(items) <= 16 {
		for i := 1; i < len(items); i++ {
			for _, prev := range items[:i] {
				if items[i] == prev {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(items))
	for _, item := range items {
		if _, dup := seen[item]; dup {
			return true
		}
		seen[item] = struct{}{}
	}
	return false
}
