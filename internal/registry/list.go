package registry

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// List limits: the most entries one call answers, and how many keys one
// call may examine before it answers with what it has and a cursor (a
// filter that matches little must not make one call scan the registry).
const (
	MaxListLimit = 1000
	maxExamined  = 10_000
	scanCount    = 200
)

// List answers at most limit entries from cursor ("" to start) on, and
// the cursor to continue from ("" when the registry has been read to its
// end). A call that has examined many keys without finding limit entries
// that match answers fewer, possibly none, and a cursor. match, when not
// nil, keeps only the entries it is true for. As with SCAN, an entry
// present for the whole listing is listed once; one written or removed
// meanwhile may or may not be. On a Cluster, each primary's keys are
// listed in turn.
func (r *Registry) List(ctx context.Context, cursor string, limit int, match func(Entry) bool) ([]Entry, string, error) {
	node, pos, after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	nodes, err := r.nodes(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("list pages: %w", err)
	}
	pattern := globEscape(r.prefix) + "*"
	var out []Entry
	examined := 0
	for node < len(nodes) && len(out) < limit && examined < maxExamined {
		c := nodes[node]
		keys, next, err := c.Scan(ctx, pos, pattern, scanCount).Result()
		if err != nil {
			return nil, "", fmt.Errorf("list pages: %w", err)
		}
		examined += len(keys)
		// A batch is read in key order, so that a listing that stops in
		// its middle resumes after the last key answered: the same SCAN
		// cursor again, the keys up to that one skipped.
		slices.Sort(keys)
		if after != "" {
			keys = slices.DeleteFunc(keys, func(k string) bool { return strings.TrimPrefix(k, r.prefix) <= after })
			after = ""
		}
		entries, err := r.read(ctx, c, keys)
		if err != nil {
			return nil, "", err
		}
		for i, e := range entries {
			if match != nil && !match(e) {
				continue
			}
			out = append(out, e)
			if len(out) == limit && i < len(entries)-1 {
				return out, cursorOf(node, pos, e.ID), nil
			}
		}
		if next == 0 {
			node, pos = node+1, 0
		} else {
			pos = next
		}
	}
	if node >= len(nodes) {
		return out, "", nil
	}
	return out, cursorOf(node, pos, ""), nil
}

func cursorOf(node int, pos uint64, after string) string {
	return strconv.Itoa(node) + "-" + strconv.FormatUint(pos, 10) + "-" + after
}

// read reads the entries of keys on c, in their order; keys that are not page entries (no
// hosts field, or not a hash) are left out.
func (r *Registry) read(ctx context.Context, c redis.Cmdable, keys []string) ([]Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	// Each command's own error is looked at below: a key that is not a
	// hash fails only its own.
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, k, fieldHosts, fieldZone, fieldVersion, fieldOptions)
		}
		return nil
	})
	out := make([]Entry, 0, len(keys))
	for i, cmd := range cmds {
		if cmd.Err() != nil {
			if strings.HasPrefix(cmd.Err().Error(), "WRONGTYPE") {
				continue
			}
			return nil, fmt.Errorf("list pages: %w", cmd.Err())
		}
		if e, ok := entryOf(strings.TrimPrefix(keys[i], r.prefix), cmd.Val()); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// nodes are what List scans: the client itself, or a Cluster's primaries
// in the order of their addresses.
func (r *Registry) nodes(ctx context.Context) ([]redis.Cmdable, error) {
	cc, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return []redis.Cmdable{r.client}, nil
	}
	var mu sync.Mutex
	byAddr := map[string]*redis.Client{}
	err := cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		byAddr[c.Options().Addr] = c
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	addrs := make([]string, 0, len(byAddr))
	for a := range byAddr {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	out := make([]redis.Cmdable, len(addrs))
	for i, a := range addrs {
		out[i] = byAddr[a]
	}
	return out, nil
}

// CursorError is a cursor List did not give.
type CursorError struct{ Cursor string }

// Error implements error.
func (e *CursorError) Error() string {
	return "cursor: not one a listing answered; start again without a cursor"
}

func parseCursor(s string) (node int, pos uint64, after string, err error) {
	if s == "" {
		return 0, 0, "", nil
	}
	parts := strings.SplitN(s, "-", 3)
	if len(parts) != 3 {
		return 0, 0, "", &CursorError{Cursor: s}
	}
	node, err1 := strconv.Atoi(parts[0])
	pos, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || node < 0 || node > 1<<16 {
		return 0, 0, "", &CursorError{Cursor: s}
	}
	return node, pos, parts[2], nil
}

// globEscape escapes the glob characters of SCAN's MATCH.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
