package registry

import (
	"context"
	"sync"
	"time"
)

// Cache remembers look-ups for a short time, so a storm of events for the
// same pages costs one Redis read per page per TTL instead of one per
// event. A change the core app writes is seen within the TTL. Failed
// look-ups are not remembered.
type Cache struct {
	r   *Registry
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	page    Page
	found   bool
	expires time.Time
}

// maxCached bounds the cache; past it, the cache starts over.
const maxCached = 100_000

// NewCache returns a Cache over r keeping answers for ttl.
func NewCache(r *Registry, ttl time.Duration) *Cache {
	return &Cache{r: r, ttl: ttl, now: time.Now, entries: map[string]cached{}}
}

// Lookup is Registry.Lookup, answered from the cache when fresh.
func (c *Cache) Lookup(ctx context.Context, pageID string) (Page, bool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[pageID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.page, e.found, nil
	}
	page, found, err := c.r.Lookup(ctx, pageID)
	if err != nil {
		return page, found, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxCached {
		c.entries = map[string]cached{}
	}
	c.entries[pageID] = cached{page: page, found: found, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return page, found, nil
}

// Forget drops what the cache remembers of pageIDs, so that a change this
// process wrote is seen by its next look-up at once (other processes see
// it within the TTL).
func (c *Cache) Forget(pageIDs ...string) {
	c.mu.Lock()
	for _, id := range pageIDs {
		delete(c.entries, id)
	}
	c.mu.Unlock()
}
