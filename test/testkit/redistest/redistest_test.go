package redistest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientTalksToSharedRedis(t *testing.T) {
	ctx := testContext(t)
	client := Client(t)
	if got, err := client.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
}

func TestPrefixIsUniqueAndCleanedUp(t *testing.T) {
	ctx := testContext(t)
	client := Client(t)
	var prefixes []string
	for i := range 2 {
		t.Run(fmt.Sprintf("writer{%d}*", i), func(t *testing.T) {
			prefix := Prefix(t)
			prefixes = append(prefixes, prefix)
			for j := range 1500 { // more than one SCAN page
				if err := client.Set(ctx, fmt.Sprintf("%sk%d", prefix, j), "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if prefixes[0] == prefixes[1] {
		t.Fatalf("two tests got the same prefix %q", prefixes[0])
	}
	for _, prefix := range prefixes {
		if strings.ContainsAny(prefix, "{}*?[]\\") {
			t.Errorf("prefix %q holds a glob or hash-tag character", prefix)
		}
		if n := countAll(ctx, t, client, prefix); n != 0 {
			t.Errorf("%d keys left under %q after the test; want 0", n, prefix)
		}
	}
}

// countAll counts the keys under prefix over a full SCAN.
func countAll(ctx context.Context, t *testing.T, client redis.UniversalClient, prefix string) int {
	t.Helper()
	n := 0
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartServerStopRestart(t *testing.T) {
	ctx := testContext(t)
	srv := StartServer(t)

	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") || srv.Addr() == SharedAddr {
		t.Fatalf("Addr() = %q, want a private 127.0.0.1 port", srv.Addr())
	}
	u, err := url.Parse(srv.URL())
	if err != nil || srv.URL() != "redis://"+srv.Addr()+"/0" {
		t.Fatalf("URL() = %q (%v), want redis://%s/0", srv.URL(), err, srv.Addr())
	}
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatalf("redis.ParseURL(%q): %v", srv.URL(), err)
	}
	client := redis.NewClient(opts)
	defer client.Close()

	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on the private server: %v", err)
	}
	// Persistence is off, as asked on the command line.
	if cfg, err := client.ConfigGet(ctx, "save").Result(); err != nil || cfg["save"] != "" {
		t.Errorf("CONFIG GET save = %v, %v; want empty", cfg, err)
	}

	srv.Stop()
	if err := client.Ping(ctx).Err(); err == nil {
		t.Fatal("PING after Stop succeeded; want an error")
	}
	srv.Stop() // a second Stop is harmless

	srv.Restart()
	if got, err := client.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING after Restart = %q, %v; want PONG", got, err)
	}
	if n, err := client.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k after a restart = %d, %v; want 0 (no persistence)", n, err)
	}
}

func TestStartCluster(t *testing.T) {
	ctx := testContext(t)
	addrs := StartCluster(t, 3)
	if len(addrs) != 3 {
		t.Fatalf("StartCluster(3) returned %d addrs: %v", len(addrs), addrs)
	}
	for _, addr := range addrs {
		node := redis.NewClient(&redis.Options{Addr: addr})
		info, err := node.ClusterInfo(ctx).Result()
		node.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_size:3") {
			t.Errorf("CLUSTER INFO on %s = %q, %v; want cluster_state:ok and cluster_size:3", addr, info, err)
		}
	}

	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cluster.Close()
	// Enough keys to land on every master.
	for i := range 100 {
		if err := cluster.Set(ctx, fmt.Sprintf("key%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET key%d: %v", i, err)
		}
	}
	var total atomic.Int64 // ForEachMaster runs its callbacks concurrently
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := node.DBSize(ctx).Result()
		if err == nil && n == 0 {
			return fmt.Errorf("master %s holds no key", node.Options().Addr)
		}
		total.Add(n)
		return err
	})
	if err != nil || total.Load() != 100 {
		t.Fatalf("keys over the masters = %d, %v; want 100 spread over all 3", total.Load(), err)
	}
}

func TestClusterWithReplicasFailsOver(t *testing.T) {
	ctx := testContext(t)
	c := NewCluster(t, ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
	if n := len(c.Addrs()); n != 6 {
		t.Fatalf("Addrs() = %d nodes, want 6", n)
	}
	client := c.Client()
	if err := client.Set(ctx, "busy", "v", 0).Err(); err != nil {
		t.Fatalf("SET busy: %v", err)
	}
	slot, err := c.Slot(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	primary, err := c.MasterOf(ctx, slot, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.Addrs()[:3], primary) {
		t.Errorf("slot %d served by %s, want one of the first three nodes %v", slot, primary, c.Addrs()[:3])
	}
	// Replication is asynchronous: let the replica have the key before its
	// primary dies, or the promoted one may rightly not know it.
	if acked, err := c.nodeClient(primary).Do(ctx, "WAIT", 1, 5000).Int(); err != nil || acked < 1 {
		t.Fatalf("WAIT for the replica of %s: %d replicas, %v", primary, acked, err)
	}
	start := time.Now()
	c.Kill(primary)
	if slices.Contains(c.Live(), primary) {
		t.Fatalf("%s still live after Kill", primary)
	}
	promoted, err := c.WaitFailover(ctx, slot, primary)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slot %d: %s killed, %s promoted after %s", slot, primary, promoted, time.Since(start).Round(time.Millisecond))
	// The replica had the key: replication kept it.
	if got, err := client.Get(ctx, "busy").Result(); err != nil || got != "v" {
		t.Errorf("GET busy after the failover = %q, %v; want v", got, err)
	}
	if u, err := redis.ParseClusterURL(c.URL()); err != nil || len(u.Addrs) != 6 {
		t.Errorf("ParseClusterURL(%q) = %v, %v; want 6 addrs", c.URL(), u, err)
	}
}

func TestSentinelFailsOver(t *testing.T) {
	ctx := testContext(t)
	s := NewSentinel(t, SentinelOptions{})
	t.Logf("sentinels run as %s", s.Binary)
	if len(s.Sentinels()) != 3 || len(s.Servers()) != 2 {
		t.Fatalf("%d sentinels, %d servers; want 3 and 2", len(s.Sentinels()), len(s.Servers()))
	}
	primary, err := s.Primary(ctx)
	if err != nil || primary != s.Servers()[0] {
		t.Fatalf("Primary() = %q, %v; want %s", primary, err, s.Servers()[0])
	}
	u, err := redis.ParseFailoverURL(s.URL())
	if err != nil || u.MasterName != SentinelMaster || len(u.SentinelAddrs) != 3 {
		t.Fatalf("ParseFailoverURL(%q) = %+v, %v", s.URL(), u, err)
	}
	client := s.Client()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET k: %v", err)
	}
	start := time.Now()
	s.Kill(primary)
	promoted, err := s.WaitFailover(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	if promoted != s.Servers()[1] {
		t.Errorf("promoted %s, want the replica %s", promoted, s.Servers()[1])
	}
	t.Logf("%s killed, %s promoted after %s", primary, promoted, time.Since(start).Round(time.Millisecond))
	if got, err := client.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET k through the failover client = %q, %v; want v", got, err)
	}
}
