package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// process is a server the bench started: `edgepurge serve` or the bare
// handler. Its output goes to a file, so that a chatty log costs the bench
// nothing and can still be quoted when something goes wrong.
type process struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan error
}

// freeAddr returns a free 127.0.0.1 port's address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProcess runs argv with env (added to a copy of the bench's own
// environment stripped of every setting the servers read, so that the
// caller's shell cannot change what is measured) and logs to logPath.
func startProcess(argv, env []string, addr, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(os.Environ()), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the bench dies without stopping it, the server drains and exits
	// rather than living on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(argv[0]), err)
	}
	p := &process{cmd: cmd, addr: addr, logPath: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	return p, nil
}

// cleanEnv drops the variables edgepurge reads from env (the Makefile
// exports some for `make run`).
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "EDGEPURGE_") || strings.HasPrefix(name, "CLOUDFLARE_") || name == "REDIS_URL" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitReady polls GET /readyz until it answers 200, the process exits, or
// timeout passes.
func (p *process) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	uri := "http://" + p.addr + "/readyz"
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err // keep it for stop
			return fmt.Errorf("exited before ready (%v); log:\n%s", err, p.logTail(20))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		code, body, err := fasthttp.GetTimeout(nil, uri, time.Second)
		switch {
		case err == nil && code == fasthttp.StatusOK:
			return nil
		case err == nil:
			last = fmt.Sprintf("HTTP %d %s", code, bytes.TrimSpace(body))
		default:
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s (last: %s); log:\n%s", timeout, last, p.logTail(20))
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *process) peakRSS() (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read peak RSS: parse %q: %w", rest, err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("read peak RSS: no VmHWM line")
}

// stop sends SIGTERM and waits up to grace for the exit, then kills.
func (p *process) stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return exitError(err)
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
	return fmt.Errorf("did not exit within %s of SIGTERM; killed", grace)
}

// cpuTime is the CPU time (user + system) the process used in all; valid
// once it has exited.
func (p *process) cpuTime() time.Duration {
	if st := p.cmd.ProcessState; st != nil {
		return st.UserTime() + st.SystemTime()
	}
	return 0
}

// exitError ignores the exit a SIGTERM may cause.
func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
		return fmt.Errorf("exit: %w", err)
	}
	return err
}

// logTail returns the last n lines of the process's output.
func (p *process) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
