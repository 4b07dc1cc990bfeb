package plan

import (
	"slices"
	"strings"
	"sync"

	"github.com/edgepurge/edgepurge/internal/event"
)

// planCacheSize bounds the plans kept; when it is reached the cache starts
// over. A storm's pages each post a few updates, so recent plans are what
// repeat.
const planCacheSize = 4096

// planKey is everything a derived plan depends on once its page is
// resolved: the rule (a registry refresh or a reload makes another), the
// page's hosts and zone, and the event's fields the templates and path
// groups read.
type planKey struct {
	rule       *rule
	hosts      string
	zone       string
	typ        event.Type
	page       string
	incident   string
	components string
}

// planCache keeps recent plans, so an event like one just planned (the
// same page, incident and type: the hot path of an incident's updates)
// costs a map look-up instead of rendering and sorting its URLs again. Its
// plans' slices are shared by every event that gets them: nothing may
// change them in place (they are clipped, so an append copies).
type planCache struct {
	mu    sync.RWMutex
	plans map[planKey]Plan
}

// cacheable reports whether ev's plan depends on its page's rule alone:
// a person's purge naming its own URLs, tags, keys, hosts or prefixes is
// planned afresh.
func cacheable(ev event.Event) bool {
	return len(ev.URLs) == 0 && len(ev.Tags) == 0 && len(ev.Keys) == 0 &&
		len(ev.Hosts) == 0 && len(ev.Prefixes) == 0 && !ev.Everything
}

func keyOf(pg page, ev event.Event) planKey {
	k := planKey{rule: pg.rule, zone: pg.zone, typ: ev.Type, page: ev.PageID, incident: ev.IncidentID}
	if len(pg.hosts) == 1 {
		k.hosts = pg.hosts[0]
	} else if len(pg.hosts) > 1 {
		k.hosts = strings.Join(pg.hosts, "\x00")
	}
	if len(ev.ComponentIDs) > 0 {
		k.components = strings.Join(ev.ComponentIDs, "\x00")
	}
	return k
}

func (c *planCache) get(k planKey) (Plan, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.plans[k]
	return p, ok
}

// put keeps p and returns it clipped, as every later get will.
func (c *planCache) put(k planKey, p Plan) Plan {
	for _, l := range []*[]string{&p.URLs, &p.Tags, &p.Hosts, &p.Prefixes, &p.Keys, &p.KeySets} {
		*l = slices.Clip(*l)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plans == nil || len(c.plans) >= planCacheSize {
		c.plans = make(map[planKey]Plan, 64)
	}
	c.plans[k] = p
	return p
}
