package redistest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/redis/go-redis/v9"
)

// clusterTimeout bounds how long a new cluster may take to report
// cluster_state:ok on every node.
const clusterTimeout = 60 * time.Second

// StartCluster starts a Redis Cluster of masters nodes (at least 3, as
// redis-cli requires) with no replicas, each a redis-server on a free
// 127.0.0.1 port, and returns their addresses once every node reports
// cluster_state:ok. The nodes are killed when the test ends.
func StartCluster(t testing.TB, masters int) []string {
	t.Helper()
	return NewCluster(t, ClusterOptions{Masters: masters}).Addrs()
}

// ClusterOptions shape a cluster started by NewCluster.
type ClusterOptions struct {
	// Masters is how many primaries share the slots (at least 3).
	Masters int
	// Replicas is how many replicas each primary has (0 or more).
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a node may be
	// unreachable before it is failing and a replica takes over; 5 s when 0.
	NodeTimeout time.Duration
}

// Cluster is a Redis Cluster of private redis-server processes (see
// NewCluster). Its methods are safe for concurrent use.
type Cluster struct {
	t     testing.TB
	addrs []string // every node, in start order

	mu      sync.Mutex
	live    map[string]*process      // addr → process; killed nodes are absent
	clients map[string]*redis.Client // addr → fail-fast client, made on first use
}

// NewCluster starts a Redis Cluster of o.Masters primaries with o.Replicas
// replicas each, every node a redis-server on a free 127.0.0.1 port with
// persistence off, and returns once every node reports cluster_state:ok,
// knows every other node, and every replica is in sync with its primary.
// The nodes are killed when the test ends. Outside the integration layer
// the test is skipped.
func NewCluster(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	integration.Need(t, "a Redis Cluster of redis-server processes (and redis-cli)")
	if o.Masters < 3 {
		t.Fatalf("redistest: a cluster needs at least 3 masters, got %d", o.Masters)
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = 5 * time.Second
	}
	n := o.Masters * (1 + o.Replicas)
	c := &Cluster{t: t, live: map[string]*process{}, clients: map[string]*redis.Client{}}
	for i := range n {
		addr, p := startClusterNode(t, i, o.NodeTimeout)
		c.addrs = append(c.addrs, addr)
		c.live[addr] = p
	}
	t.Cleanup(c.killAll)

	cliPath, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redistest: find redis-cli in PATH: %v", err)
	}
	// redis-cli makes the first Masters nodes primaries and the others
	// their replicas.
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(o.Replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cliPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create %s: %v\n%s", strings.Join(c.addrs, " "), err, out)
	}
	if err := waitClusterOK(ctx, c.addrs, o.Masters*o.Replicas); err != nil {
		t.Fatalf("redistest: cluster %s: %v", strings.Join(c.addrs, " "), err)
	}
	return c
}

// startClusterNode starts one cluster-enabled node in its own directory, so
// that each node has its own nodes.conf.
func startClusterNode(t testing.TB, index int, nodeTimeout time.Duration) (string, *process) {
	t.Helper()
	var lastErr error
	for range startAttempts {
		port, err := freePort(true)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		// A fresh directory per attempt: a failed start may leave a nodes.conf.
		dir := t.TempDir()
		proc, err := startProcess(dir, port,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
		)
		if err != nil {
			lastErr = err
			continue
		}
		return addrOf(port), proc
	}
	t.Fatalf("redistest: cluster node %d: %v", index, lastErr)
	return "", nil
}

// waitClusterOK polls every node until each reports cluster_state:ok, knows
// every other node and sees replicas replicas, and each replica's link to
// its primary is up.
func waitClusterOK(ctx context.Context, addrs []string, replicas int) error {
	want := "cluster_known_nodes:" + strconv.Itoa(len(addrs))
	for _, addr := range addrs {
		client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		var info, why string
		var err error
		for {
			why, err = nodeNotReady(ctx, client, want, replicas)
			if err == nil && why == "" {
				break
			}
			select {
			case <-ctx.Done():
				_ = client.Close()
				return fmt.Errorf("node %s not ready within %s: %s, error %v%s", addr, clusterTimeout, why, err, info)
			case <-time.After(100 * time.Millisecond):
			}
		}
		_ = client.Close()
	}
	return nil
}

// nodeNotReady says why one node is not ready yet, or "".
func nodeNotReady(ctx context.Context, client *redis.Client, knownNodes string, replicas int) (string, error) {
	info, err := client.ClusterInfo(ctx).Result()
	if err != nil {
		return "CLUSTER INFO failed", err
	}
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, knownNodes) {
		return fmt.Sprintf("CLUSTER INFO %q", info), nil
	}
	nodes, err := client.ClusterNodes(ctx).Result()
	if err != nil {
		return "CLUSTER NODES failed", err
	}
	if got := countReplicas(nodes); got != replicas {
		return fmt.Sprintf("CLUSTER NODES lists %d replicas, want %d", got, replicas), nil
	}
	repl, err := client.Info(ctx, "replication").Result()
	if err != nil {
		return "INFO replication failed", err
	}
	if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
		return "replica not in sync with its primary", nil
	}
	return "", nil
}

// countReplicas counts the replicas a CLUSTER NODES answer lists (flags
// such as "slave" or "myself,slave").
func countReplicas(nodes string) int {
	n := 0
	for line := range strings.Lines(nodes) {
		if f := strings.Fields(line); len(f) > 2 && slices.Contains(strings.Split(f[2], ","), "slave") {
			n++
		}
	}
	return n
}

// Addrs are every node's "127.0.0.1:PORT", killed ones included, the
// primaries first.
func (c *Cluster) Addrs() []string { return slices.Clone(c.addrs) }

// URL is the cluster as redis.mode cluster reads it: the first node in the
// URL, every other one in an addr parameter.
func (c *Cluster) URL() string {
	q := url.Values{}
	for _, a := range c.addrs[1:] {
		q.Add("addr", a)
	}
	return "redis://" + c.addrs[0] + "?" + q.Encode()
}

// Client returns a cluster client over every node, closed when the test
// ends. It reloads the slot map every half second: go-redis's default (60 s)
// would keep sending a killed primary's slots to it long after a failover.
func (c *Cluster) Client() *redis.ClusterClient {
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.addrs, DialTimeout: time.Second, ClusterStateReloadInterval: 500 * time.Millisecond})
	c.t.Cleanup(func() { _ = client.Close() })
	return client
}

// Live are the addresses of the nodes not killed.
func (c *Cluster) Live() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.addrs {
		if c.live[a] != nil {
			out = append(out, a)
		}
	}
	return out
}

// Kill SIGKILLs the node at addr, as a crash would, and returns once it is
// gone. Killing a killed node does nothing.
func (c *Cluster) Kill(addr string) {
	c.mu.Lock()
	p := c.live[addr]
	delete(c.live, addr)
	c.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

func (c *Cluster) killAll() {
	for _, a := range c.addrs {
		c.Kill(a)
	}
}

// Slot is the hash slot of key, as a live node computes it.
func (c *Cluster) Slot(ctx context.Context, key string) (int, error) {
	var lastErr error
	for _, a := range c.Live() {
		n, err := c.nodeClient(a).ClusterKeySlot(ctx, key).Result()
		if err == nil {
			return int(n), nil
		}
		lastErr = err
	}
	return 0, fmt.Errorf("CLUSTER KEYSLOT %q: %w", key, lastErr)
}

// MasterOf is the address of the primary serving slot, as the live node at
// via sees it ("" via: the first live node).
func (c *Cluster) MasterOf(ctx context.Context, slot int, via string) (string, error) {
	if via == "" {
		live := c.Live()
		if len(live) == 0 {
			return "", errors.New("no live node")
		}
		via = live[0]
	}
	slots, err := c.nodeClient(via).ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER SLOTS on %s: %w", via, err)
	}
	for _, s := range slots {
		if s.Start <= slot && slot <= s.End && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("CLUSTER SLOTS on %s: slot %d is not served", via, slot)
}

// MasterOfKey is the address of the primary serving key's slot.
func (c *Cluster) MasterOfKey(ctx context.Context, key string) (string, error) {
	slot, err := c.Slot(ctx, key)
	if err != nil {
		return "", err
	}
	return c.MasterOf(ctx, slot, "")
}

// WaitFailover waits until a replica has taken slot over from the killed
// primary dead: every live node names the same live primary for the slot
// and reports cluster_state:ok. It returns the new primary.
func (c *Cluster) WaitFailover(ctx context.Context, slot int, dead string) (string, error) {
	var why string
	for {
		primary, reason := c.failedOver(ctx, slot, dead)
		if reason == "" {
			return primary, nil
		}
		why = reason
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no failover of slot %d from %s: %s", slot, dead, why)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// failedOver returns the new primary of slot, or why there is none yet.
func (c *Cluster) failedOver(ctx context.Context, slot int, dead string) (string, string) {
	live := c.Live()
	primary := ""
	for _, a := range live {
		info, err := c.nodeClient(a).ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return "", fmt.Sprintf("node %s: not cluster_state:ok (%v)", a, err)
		}
		m, err := c.MasterOf(ctx, slot, a)
		if err != nil {
			return "", err.Error()
		}
		if m == dead || !slices.Contains(live, m) {
			return "", fmt.Sprintf("node %s still names %s", a, m)
		}
		if primary != "" && m != primary {
			return "", fmt.Sprintf("nodes disagree: %s and %s", primary, m)
		}
		primary = m
	}
	if primary == "" {
		return "", "no live node"
	}
	return primary, ""
}

// nodeClient is a fail-fast client of one node, closed when the test ends.
func (c *Cluster) nodeClient(addr string) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	client, ok := c.clients[addr]
	if !ok {
		client = ClientOf(c.t, addr)
		c.clients[addr] = client
	}
	return client
}
