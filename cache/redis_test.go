package cache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// On a Cluster, the readiness PING fails while a primary is gone and
// passes again once a replica took its slots over; the client's slot map
// follows the failover within seconds, not go-redis's default minute.
func TestClusterPingFollowsFailover(t *testing.T) {
	c := redistest.NewCluster(t, redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
	rdb, err := NewClient(Config{URL: c.URL(), Mode: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := Ping(ctx, rdb); err != nil {
		t.Fatalf("Ping on a healthy cluster: %v", err)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	slot, err := c.Slot(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	primary, err := c.MasterOf(ctx, slot, "")
	if err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: let the replica have k before its
	// primary dies, or the promoted one may rightly not know it.
	node := redis.NewClient(&redis.Options{Addr: primary})
	acked, err := node.Do(ctx, "WAIT", 1, 5000).Int()
	node.Close()
	if err != nil || acked < 1 {
		t.Fatalf("WAIT for the replica of %s: %d replicas, %v", primary, acked, err)
	}
	c.Kill(primary)
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	err = Ping(pctx, rdb)
	pcancel()
	if err == nil || !strings.Contains(err.Error(), primary) {
		t.Errorf("Ping with primary %s killed = %v; want its error", primary, err)
	}
	if _, err := c.WaitFailover(ctx, slot, primary); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		perr := Ping(pctx, rdb)
		got, gerr := rdb.Get(pctx, "k").Result()
		pcancel()
		if perr == nil && gerr == nil && got == "v" {
			break
		}
		if time.Since(promoted) > 5*time.Second {
			t.Fatalf("5 s after the promotion: Ping = %v, GET k = %q, %v; want both to work", perr, got, gerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("PING of every primary and GET back %s after the promotion", time.Since(promoted).Round(time.Millisecond))
}
