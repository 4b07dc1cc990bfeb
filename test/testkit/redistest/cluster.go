package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if masters < 3 {
		t.Fatalf("redistest: a cluster needs at least 3 masters, got %d", masters)
	}
	addrs := make([]string, 0, masters)
	for i := range masters {
		addrs = append(addrs, startClusterNode(t, i))
	}

	cliPath, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redistest: find redis-cli in PATH: %v", err)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cliPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create %s: %v\n%s", strings.Join(addrs, " "), err, out)
	}

	if err := waitClusterOK(ctx, addrs); err != nil {
		t.Fatalf("redistest: cluster %s: %v", strings.Join(addrs, " "), err)
	}
	return addrs
}

// startClusterNode starts one cluster-enabled node in its own directory, so
// that each node has its own nodes.conf.
func startClusterNode(t testing.TB, index int) string {
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
			"--cluster-node-timeout", "5000",
		)
		if err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(proc.kill)
		return addrOf(port)
	}
	t.Fatalf("redistest: cluster node %d: %v", index, lastErr)
	return ""
}

// waitClusterOK polls CLUSTER INFO on every node until each reports
// cluster_state:ok and knows every other node.
func waitClusterOK(ctx context.Context, addrs []string) error {
	want := "cluster_known_nodes:" + strconv.Itoa(len(addrs))
	for _, addr := range addrs {
		client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		var info string
		var err error
		for {
			info, err = client.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, want) {
				break
			}
			select {
			case <-ctx.Done():
				_ = client.Close()
				return fmt.Errorf("node %s not ready within %s: last CLUSTER INFO %q, error %v", addr, clusterTimeout, info, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
		_ = client.Close()
	}
	return nil
}
