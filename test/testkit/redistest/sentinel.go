package redistest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
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

// SentinelMaster is the name under which a Sentinel group monitors its
// primary (the URL's master_name).
const SentinelMaster = "edgepurge"

// SentinelOptions shape a Sentinel group started by NewSentinel.
type SentinelOptions struct {
	// Sentinels is how many sentinel processes watch the primary; 3 when 0.
	Sentinels int
	// Quorum is how many sentinels must agree the primary is down; a
	// majority when 0.
	Quorum int
	// DownAfter is down-after-milliseconds: how long the primary may not
	// answer before a sentinel thinks it down; 1 s when 0.
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout; 5 s when 0.
	FailoverTimeout time.Duration
}

// Sentinel is a primary, one replica and their sentinels, each a private
// process on a free 127.0.0.1 port. Its methods are safe for concurrent use.
type Sentinel struct {
	t         testing.TB
	servers   []string // primary first, then the replica
	sentinels []string
	// Binary is how the sentinels run: "redis-sentinel" (Debian's
	// package) or "redis-server --sentinel" when that is missing.
	Binary string

	mu      sync.Mutex
	live    map[string]*process
	clients map[string]*redis.Client
}

// sentinelBinary returns the sentinel program and the arguments before the
// config file: Debian's redis-sentinel, or redis-server in sentinel mode.
func sentinelBinary() (path string, sentinelFlag bool, err error) {
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		return p, false, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", false, errors.New("neither redis-sentinel nor redis-server in PATH (scripts/ensure-redis-sentinel.sh installs Debian's redis-sentinel)")
	}
	return p, true, nil
}

// NewSentinel starts a primary and its replica (persistence off) and
// o.Sentinels sentinels monitoring the primary as SentinelMaster, and
// returns once the replica is in sync and every sentinel knows the replica
// and every other sentinel, so that a failover can start at once. Every
// process is killed when the test ends. Outside the integration layer the
// test is skipped.
func NewSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	integration.Need(t, "redis-server and redis-sentinel")
	if o.Sentinels <= 0 {
		o.Sentinels = 3
	}
	if o.Quorum <= 0 {
		o.Quorum = o.Sentinels/2 + 1
	}
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 5 * time.Second
	}
	binary, flag, err := sentinelBinary()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s := &Sentinel{t: t, live: map[string]*process{}, clients: map[string]*redis.Client{}, Binary: filepath.Base(binary)}
	if flag {
		s.Binary += " --sentinel"
	}
	t.Cleanup(s.killAll)

	primary := s.startServer()
	s.startServer("--replicaof", "127.0.0.1", portOf(primary))
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := waitFor(ctx, func() string { return s.replicaNotSynced(ctx, s.servers[1]) }); err != nil {
		t.Fatalf("redistest: replica %s: %v", s.servers[1], err)
	}
	for range o.Sentinels {
		s.startSentinel(binary, flag, primary, o)
	}
	for _, a := range s.sentinels {
		if err := waitFor(ctx, func() string { return s.sentinelNotReady(ctx, a, o.Sentinels-1) }); err != nil {
			t.Fatalf("redistest: sentinel %s: %v", a, err)
		}
	}
	return s
}

// startServer starts one redis-server with extra arguments and records it.
func (s *Sentinel) startServer(extra ...string) string {
	s.t.Helper()
	var lastErr error
	for range startAttempts {
		port, err := freePort(false)
		if err != nil {
			s.t.Fatalf("redistest: %v", err)
		}
		p, err := startProcess(s.t.TempDir(), port, extra...)
		if err != nil {
			lastErr = err
			continue
		}
		addr := addrOf(port)
		s.mu.Lock()
		s.servers = append(s.servers, addr)
		s.live[addr] = p
		s.mu.Unlock()
		return addr
	}
	s.t.Fatalf("redistest: %v", lastErr)
	return ""
}

// startSentinel starts one sentinel monitoring primary.
func (s *Sentinel) startSentinel(binary string, flag bool, primary string, o SentinelOptions) {
	s.t.Helper()
	var lastErr error
	for range startAttempts {
		port, err := freePort(false)
		if err != nil {
			s.t.Fatalf("redistest: %v", err)
		}
		dir := s.t.TempDir()
		logPath := filepath.Join(dir, "sentinel.log")
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %s %d
sentinel down-after-milliseconds %[4]s %[7]d
sentinel failover-timeout %[4]s %[8]d
sentinel parallel-syncs %[4]s 1
`, port, dir, logPath, SentinelMaster, portOf(primary), o.Quorum, o.DownAfter.Milliseconds(), o.FailoverTimeout.Milliseconds())
		// The sentinel rewrites its config file: it must be writable.
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			s.t.Fatalf("redistest: %v", err)
		}
		args := []string{conf}
		if flag {
			args = append(args, "--sentinel")
		}
		p, err := runUntilPing(binary, args, port, logPath)
		if err != nil {
			lastErr = err
			continue
		}
		addr := addrOf(port)
		s.mu.Lock()
		s.sentinels = append(s.sentinels, addr)
		s.live[addr] = p
		s.mu.Unlock()
		return
	}
	s.t.Fatalf("redistest: sentinel: %v", lastErr)
}

// Servers are the primary's and the replica's addresses as started (the
// primary first), killed ones included.
func (s *Sentinel) Servers() []string { return slices.Clone(s.servers) }

// Sentinels are the sentinels' addresses.
func (s *Sentinel) Sentinels() []string { return slices.Clone(s.sentinels) }

// URL is the group as redis.mode sentinel reads it: the first sentinel in
// the URL, the others in addr parameters, master_name the monitored name.
func (s *Sentinel) URL() string {
	q := url.Values{}
	q.Set("master_name", SentinelMaster)
	for _, a := range s.sentinels[1:] {
		q.Add("addr", a)
	}
	return "redis://" + s.sentinels[0] + "/0?" + q.Encode()
}

// Client returns a Sentinel-aware client of the current primary, closed
// when the test ends.
func (s *Sentinel) Client() *redis.Client {
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: SentinelMaster, SentinelAddrs: s.sentinels, DialTimeout: time.Second,
	})
	s.t.Cleanup(func() { _ = client.Close() })
	return client
}

// Primary is the primary's address as the first answering sentinel names it.
func (s *Sentinel) Primary(ctx context.Context) (string, error) {
	var lastErr error
	for _, a := range s.sentinels {
		addr, err := s.masterAddr(ctx, a)
		if err == nil {
			return addr, nil
		}
		lastErr = err
	}
	return "", lastErr
}

func (s *Sentinel) masterAddr(ctx context.Context, sentinel string) (string, error) {
	r, err := s.client(sentinel).Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
	if err != nil {
		return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME on %s: %w", sentinel, err)
	}
	if len(r) != 2 {
		return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME on %s: %v", sentinel, r)
	}
	return r[0] + ":" + r[1], nil
}

// Kill SIGKILLs the process at addr (a server or a sentinel), as a crash
// would, and returns once it is gone.
func (s *Sentinel) Kill(addr string) {
	s.mu.Lock()
	p := s.live[addr]
	delete(s.live, addr)
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

func (s *Sentinel) killAll() {
	s.mu.Lock()
	addrs := append(slices.Clone(s.servers), s.sentinels...)
	s.mu.Unlock()
	for _, a := range addrs {
		s.Kill(a)
	}
}

// WaitFailover waits until the sentinels have promoted a replica in place
// of the killed primary dead: every live sentinel names the same live
// server, and that server says it is a primary. It returns the new primary.
func (s *Sentinel) WaitFailover(ctx context.Context, dead string) (string, error) {
	var primary string
	err := waitFor(ctx, func() string {
		primary = ""
		for _, a := range s.sentinels {
			if !s.isLive(a) {
				continue
			}
			m, err := s.masterAddr(ctx, a)
			if err != nil {
				return err.Error()
			}
			if m == dead || !s.isLive(m) {
				return fmt.Sprintf("sentinel %s still names %s", a, m)
			}
			if primary != "" && m != primary {
				return fmt.Sprintf("sentinels disagree: %s and %s", primary, m)
			}
			primary = m
		}
		role, err := s.client(primary).Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return fmt.Sprintf("%s: ROLE %v, %v", primary, role, err)
		}
		return ""
	})
	if err != nil {
		return "", fmt.Errorf("no failover from %s: %w", dead, err)
	}
	return primary, nil
}

func (s *Sentinel) isLive(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[addr] != nil
}

// replicaNotSynced says why the replica at addr is not in sync, or "".
func (s *Sentinel) replicaNotSynced(ctx context.Context, addr string) string {
	info, err := s.client(addr).Info(ctx, "replication").Result()
	if err != nil {
		return err.Error()
	}
	if !strings.Contains(info, "master_link_status:up") {
		return "master_link_status not up"
	}
	return ""
}

// sentinelNotReady says why the sentinel at addr could not lead a failover
// yet, or "": it must know the replica and the other sentinels.
func (s *Sentinel) sentinelNotReady(ctx context.Context, addr string, others int) string {
	c := s.client(addr)
	replicas, err := c.Do(ctx, "SENTINEL", "REPLICAS", SentinelMaster).Slice()
	if err != nil {
		return err.Error()
	}
	if len(replicas) != 1 {
		return fmt.Sprintf("knows %d replicas, want 1", len(replicas))
	}
	peers, err := c.Do(ctx, "SENTINEL", "SENTINELS", SentinelMaster).Slice()
	if err != nil {
		return err.Error()
	}
	if len(peers) != others {
		return fmt.Sprintf("knows %d other sentinels, want %d", len(peers), others)
	}
	return ""
}

// client is a fail-fast client of one process, closed when the test ends.
func (s *Sentinel) client(addr string) *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[addr]
	if !ok {
		c = ClientOf(s.t, addr)
		s.clients[addr] = c
	}
	return c
}

// waitFor polls notYet every 50 ms until it returns "" or ctx ends; the
// error then holds its last reason.
func waitFor(ctx context.Context, notYet func() string) error {
	for {
		why := notYet()
		if why == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New(why)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// portOf is the port of a "127.0.0.1:PORT" address.
func portOf(addr string) string {
	_, port, _ := strings.Cut(addr, ":")
	if _, err := strconv.Atoi(port); err != nil {
		return ""
	}
	return port
}
