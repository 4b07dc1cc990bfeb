package queue

import (
	"context"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// Zones come from the page registry, so their queues must not pile up:
// a queue idle for idleQueueTTL is dropped at the next sweep.
func TestIdleZoneQueuesArePruned(t *testing.T) {
	p, _ := setup(t, cfstub.Options{}, Config{})
	now := time.Now()
	p.now = func() time.Time { return now }
	ctx := context.Background()
	for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
		if _, err := p.Purge(ctx, purge.Request{Zone: z, URLs: []string{"https://" + z + ".test/"}}); err != nil {
			t.Fatalf("purge %s: %v", z, err)
		}
	}
	if n := p.Queues(); n != 3 {
		t.Fatalf("%d queues after three zones, want 3", n)
	}
	now = now.Add(idleQueueTTL / 2)
	if _, err := p.Purge(ctx, purge.Request{Zone: "zone-a", URLs: []string{"https://zone-a.test/again"}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(idleQueueTTL/2 + time.Second)
	if _, err := p.Purge(ctx, purge.Request{Zone: "zone-d", URLs: []string{"https://zone-d.test/"}}); err != nil {
		t.Fatal(err)
	}
	// zone-b and zone-c sat idle past the TTL; zone-a was used since.
	if n := p.Queues(); n != 2 {
		t.Errorf("%d queues, want 2 (zone-a, zone-d)", n)
	}
	// A pruned zone's next purge gets a new queue and goes through.
	if _, err := p.Purge(ctx, purge.Request{Zone: "zone-b", URLs: []string{"https://zone-b.test/later"}}); err != nil {
		t.Errorf("purge after the prune: %v", err)
	}
}
