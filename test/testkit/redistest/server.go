package redistest

import (
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/redis/go-redis/v9"
)

// Server is a private redis-server started for one test, for tests that stop
// or restart Redis. It is killed when the test ends.
type Server struct {
	t    testing.TB
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while stopped
}

// startAttempts is how many free ports StartServer tries: another process
// may take a port between the moment it is found free and redis-server's bind.
const startAttempts = 3

// StartServer starts redis-server (from PATH) on a free 127.0.0.1 port, with
// persistence off and its files in a t.TempDir(), and returns once it answers
// PING. The test fails if it cannot be started, and is skipped outside the
// integration layer.
func StartServer(t testing.TB) *Server {
	t.Helper()
	integration.Need(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range startAttempts {
		port, err := freePort(false)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		proc, err := startProcess(dir, port)
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{t: t, dir: dir, port: port, proc: proc}
		t.Cleanup(s.Stop)
		return s
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Addr is the server's "127.0.0.1:PORT".
func (s *Server) Addr() string { return addrOf(s.port) }

// URL is the server's "redis://127.0.0.1:PORT/0", as REDIS_URL would hold it.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop kills the server with SIGKILL, as a crash would, and returns once it
// is gone. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Restart starts the server again on the same port (stopping it first if it
// runs) and returns once it answers PING. Its data is gone: persistence is
// off. The test fails if it cannot be restarted.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	proc, err := startProcess(s.dir, s.port)
	if err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
	s.proc = proc
}

// ClientOf returns a client of the Redis at addr that fails fast (no retry,
// short dial timeout), closed when the test ends.
func ClientOf(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
