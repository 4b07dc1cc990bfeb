// Package registry reads and writes the page registry that the core app
// keeps in Redis, so that a page's hostnames (custom domains) and CDN zone
// can change without a redeploy of edgepurge.
//
// A page entry is the hash {prefix}{page_id} with the fields "hosts"
// (comma-separated hostnames) and, optionally, "zone"; the pages API adds
// "options" (page options as JSON, see plan.Options) and "version".
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/rediscmd"
)

// DefaultPrefix is the key prefix of page entries when none is configured.
const DefaultPrefix = "edgepurge:page:"

// Hash fields of a page entry.
const (
	fieldHosts   = "hosts"
	fieldZone    = "zone"
	fieldOptions = "options"
)

// Page is one registered status page.
type Page struct {
	// ID is the page id, the suffix of the entry's key.
	ID string
	// Hosts are the page's hostnames: lowercased, without duplicates, in the
	// order they were registered.
	Hosts []string
	// Zone is the CDN zone serving the page; empty means the default zone.
	Zone string
	// Options are the page's options as stored (plan.Options, JSON);
	// empty: none, the default rule's.
	Options string
}

// Registry reads and writes page entries in Redis.
type Registry struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Registry of the entries under prefix, or DefaultPrefix when
// prefix is empty.
func New(client redis.UniversalClient, prefix string) *Registry {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Registry{client: client, prefix: prefix}
}

// Lookup returns the registered page pageID. found is false when no entry
// exists or it lists no hostname; err is set only when Redis fails or ctx
// ends first (see rediscmd.Do).
func (r *Registry) Lookup(ctx context.Context, pageID string) (page Page, found bool, err error) {
	cmd := redis.NewSliceCmd(ctx, "hmget", r.key(pageID), fieldHosts, fieldZone, fieldOptions)
	if err := rediscmd.Do(ctx, r.client, cmd); err != nil {
		return Page{}, false, fmt.Errorf("look up page %q: %w", pageID, err)
	}
	values := cmd.Val()
	// HMGET answers nil for a missing field, and for every field of a
	// missing hash.
	hosts := NormalizeHosts(strings.Split(stringOf(values[0]), ","))
	if len(hosts) == 0 {
		return Page{}, false, nil
	}
	return Page{ID: pageID, Hosts: hosts, Zone: strings.TrimSpace(stringOf(values[1])), Options: stringOf(values[2])}, true, nil
}

// Put writes page's entry: its hostnames, normalized, and its zone (the
// zone field is removed when Zone is empty). Other fields of the hash are
// left alone. A page needs an ID and at least one hostname.
func (r *Registry) Put(ctx context.Context, page Page) error {
	if page.ID == "" {
		return errors.New("put page: empty page id")
	}
	hosts := NormalizeHosts(page.Hosts)
	if len(hosts) == 0 {
		return fmt.Errorf("put page %q: no hostname", page.ID)
	}
	key := r.key(page.ID)
	zone := strings.TrimSpace(page.Zone)
	// One transaction, so a reader never sees the new hosts with the old zone.
	_, err := r.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HSet(ctx, key, fieldHosts, strings.Join(hosts, ","))
		if zone == "" {
			pipe.HDel(ctx, key, fieldZone)
		} else {
			pipe.HSet(ctx, key, fieldZone, zone)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put page %q: %w", page.ID, err)
	}
	return nil
}

func (r *Registry) key(pageID string) string { return r.prefix + pageID }

// NormalizeHosts trims and lowercases hostnames, dropping empty entries and
// duplicates and keeping the first-seen order.
func NormalizeHosts(hosts []string) []string {
	seen := make(map[string]bool, len(hosts))
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
