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

// List answers entries from cursor ("" to start) on, at least limit of
// them unless the registry ends first or the call has examined enough
// keys (it then answers fewer, possibly none, and a cursor), and the
// cursor to continue from ("" when the registry has been read to its
// end). match, when not nil, keeps only the entries it is true for. As
// with SCAN, an entry present for the whole listing is listed at least
// once; one written or removed meanwhile may or may not be. On a Cluster,
// each primary's keys are listed in turn.
func (r *Registry) List(ctx context.Context, cursor string, limit int, match func(Entry) bool) ([]Entry, string, error) {
	node, pos, err := parseCursor(cursor)
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
	for node < len(nodes) {
		c := nodes[node]
		keys, next, err := c.Scan(ctx, pos, pattern, scanCount).Result()
		if err != nil {
			return nil, "", fmt.Errorf("list pages: %w", err)
		}
		examined += len(keys)
		entries, err := r.read(ctx, c, keys)
		if err != nil {
			return nil, "", err
		}
		for _, e := range entries {
			if match == nil || match(e) {
				out = append(out, e)
			}
		}
		if next == 0 {
			node, pos = node+1, 0
		} else {
			pos = next
		}
		if len(out) >= limit || examined >= maxExamined {
			break
		}
	}
	if node >= len(nodes) {
		return out, "", nil
	}
	return out, strconv.Itoa(node) + "-" + strconv.FormatUint(pos, 10), nil
}

// read reads the entries of keys on c; keys that are not page entries (no
// hosts field, or not a hash) are left out.
func (r *Registry) read(ctx context.Context, c redis.Cmdable, keys []string) ([]Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	slices.Sort(keys)
	cmds := make([]*redis.SliceCmd, len(keys))
	// Each command's own error is looked at below: a key that is not a
	// hash fails only its own.
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, k, fieldHosts, fieldZone, fieldVersion)
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

func parseCursor(s string) (int, uint64, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	node, err1 := strconv.Atoi(a)
	pos, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || node < 0 || node > 1<<16 {
		return 0, 0, &CursorError{Cursor: s}
	}
	return node, pos, nil
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
