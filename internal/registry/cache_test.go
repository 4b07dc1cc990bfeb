package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestCacheServesWithinTTLThenRereads(t *testing.T) {
	ctx := context.Background()
	r := New(redistest.Client(t), redistest.Prefix(t))
	c := NewCache(r, time.Minute)
	clock := time.Now()
	c.now = func() time.Time { return clock }

	if _, found, err := c.Lookup(ctx, "p1"); err != nil || found {
		t.Fatalf("unregistered page: found=%v err=%v", found, err)
	}
	if err := r.Put(ctx, Page{ID: "p1", Hosts: []string{"status.a.test"}}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := c.Lookup(ctx, "p1"); found {
		t.Error("a cached miss was re-read before its TTL")
	}
	clock = clock.Add(time.Minute + time.Second)
	p, found, err := c.Lookup(ctx, "p1")
	if err != nil || !found || p.Hosts[0] != "status.a.test" {
		t.Fatalf("after the TTL: %+v %v %v", p, found, err)
	}
	if err := r.Put(ctx, Page{ID: "p1", Hosts: []string{"status.b.test"}}); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := c.Lookup(ctx, "p1"); p.Hosts[0] != "status.a.test" {
		t.Errorf("within the TTL the cached hosts should answer: %q", p.Hosts)
	}
}

func TestCacheDoesNotRememberFailures(t *testing.T) {
	srv := redistest.StartServer(t)
	r := New(redistest.ClientOf(t, srv.Addr()), "p:")
	c := NewCache(r, time.Minute)
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, _, err := c.Lookup(ctx, "x"); err == nil {
		t.Fatal("no error with Redis down")
	}
	if len(c.entries) != 0 {
		t.Error("a failed look-up was cached")
	}
}

// TestCacheLookupBoundedWhenRedisStalls: on the auto-pipelined client the
// service uses, a look-up that misses the cache gives up after
// LookupTimeout when Redis stalls, and is not remembered.
func TestCacheLookupBoundedWhenRedisStalls(t *testing.T) {
	srv := redistest.StartServer(t)
	admin := redistest.ClientOf(t, srv.Addr())
	ap, err := redistest.ClientOf(t, srv.Addr()).AsyncAutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := NewCache(New(ap, "stall:"), time.Minute)
	if _, _, err := c.Lookup(ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "2500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = c.Lookup(ctx, "p1")
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*LookupTimeout {
		t.Fatalf("look-up with Redis paused: %v after %v, want a deadline error after %v", err, took, LookupTimeout)
	}
	if _, ok := c.entries["p1"]; ok {
		t.Error("a failed look-up was cached")
	}
}
