package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a redis-server may take to answer PING; it is
// generous because CI machines are small and busy.
const startTimeout = 20 * time.Second

// process is one running redis-server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// startProcess runs redis-server on 127.0.0.1:port with its files in dir and
// returns once it answers PING. extra are further config arguments.
func startProcess(dir string, port int, extra ...string) (*process, error) {
	binary, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("find redis-server in PATH (install Debian's redis-server package): %w", err)
	}
	logPath := filepath.Join(dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", logPath,
	}
	args = append(args, extra...)
	return runUntilPing(binary, args, port, logPath)
}

// runUntilPing starts binary with args (a redis-server or a sentinel that
// listens on 127.0.0.1:port and logs to logPath) and returns once it
// answers PING.
func runUntilPing(binary string, args []string, port int, logPath string) (*process, error) {
	name := filepath.Base(binary)
	cmd := exec.Command(binary, args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s on port %d: %w", name, port, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()

	if err := p.waitReady(addrOf(port)); err != nil {
		p.kill()
		return nil, fmt.Errorf("start %s on port %d: %w%s", name, port, err, logTail(logPath))
	}
	return p, nil
}

// waitReady polls PING until it succeeds, the process exits or startTimeout
// passes.
func (p *process) waitReady(addr string) error {
	client := redis.NewClient(&redis.Options{
		Addr:        addr,
		DialTimeout: time.Second,
		ReadTimeout: time.Second,
		MaxRetries:  -1,
	})
	defer client.Close()

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return errors.New("the process exited before answering PING")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within %s: %w", startTimeout, err)
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone, so that its port
// is free when kill returns.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// freePort returns a port on 127.0.0.1 that nothing listens on right now.
// With cluster set, port+10000 (the cluster bus) must be free too, so the
// port is drawn below the kernel's ephemeral range.
func freePort(cluster bool) (int, error) {
	if !cluster {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	for range 100 {
		port := 20000 + rand.IntN(10000)
		if portFree(port) && portFree(port+10000) {
			return port, nil
		}
	}
	return 0, errors.New("find a free port pair for a cluster node: none found in 100 tries")
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", addrOf(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func addrOf(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// logTail returns the end of a redis-server log, to explain a failed start.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	const max = 2000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return "\nredis-server log (" + path + "):\n" + string(data)
}
