package registry

import (
	"context"
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
