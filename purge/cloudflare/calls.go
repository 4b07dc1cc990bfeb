package cloudflare

import (
	"fmt"

	"github.com/cloudflare/cloudflare-go/v7/cache"

	"github.com/edgepurge/edgepurge/purge"
)

// call is one purge_cache call: one kind of items, within the per-call limit.
type call struct {
	kind  string // "urls", "tags", "hosts", "prefixes" or "everything"
	items []string
}

// plan splits a request into calls: URLs in batches of maxURLs, tags, hosts
// and prefixes in batches of maxItems, and purge-everything alone.
func (p *Purger) plan(req purge.Request) []call {
	var calls []call
	calls = appendBatches(calls, "urls", req.URLs, p.maxURLs)
	calls = appendBatches(calls, "tags", req.Tags, p.maxItems)
	calls = appendBatches(calls, "hosts", req.Hosts, p.maxItems)
	calls = appendBatches(calls, "prefixes", req.Prefixes, p.maxItems)
	if req.Everything {
		calls = append(calls, call{kind: "everything"})
	}
	return calls
}

func appendBatches(calls []call, kind string, items []string, size int) []call {
	for start := 0; start < len(items); start += size {
		end := min(start+size, len(items))
		calls = append(calls, call{kind: kind, items: items[start:end]})
	}
	return calls
}

// size is how many request items the call purges; everything counts as one.
func (c call) size() int {
	if c.kind == "everything" {
		return 1
	}
	return len(c.items)
}

// op names the call in errors: "purge 30 urls in zone Z", or without the
// zone when zone is "".
func (c call) op(zone string) string {
	what := fmt.Sprintf("purge %d %s", len(c.items), c.kind)
	if c.kind == "everything" {
		what = "purge everything"
	}
	if zone == "" {
		return what
	}
	return fmt.Sprintf("%s in zone %s", what, zone)
}

// body is the call's purge_cache body, one of the SDK's body variants.
func (c call) body() cache.CachePurgeParamsBodyUnion {
	switch c.kind {
	case "urls":
		var b cache.CachePurgeParamsBodyCachePurgeSingleFile
		b.Files.Value, b.Files.Present = c.items, true
		return b
	case "tags":
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByTags
		b.Tags.Value, b.Tags.Present = c.items, true
		return b
	case "hosts":
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByHostnames
		b.Hosts.Value, b.Hosts.Present = c.items, true
		return b
	case "prefixes":
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByPrefixes
		b.Prefixes.Value, b.Prefixes.Present = c.items, true
		return b
	default:
		var b cache.CachePurgeParamsBodyCachePurgeEverything
		b.PurgeEverything.Value, b.PurgeEverything.Present = true, true
		return b
	}
}
