// Package varnishtest runs real varnishd processes for tests: each with its
// own work directory, a free port on 127.0.0.1, in the foreground (-F), with
// the reference VCL (examples/varnish/default.vcl) rewritten for the test's
// origin and purge ACL, killed when the test ends.
package varnishtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// startTimeout is generous: varnishd compiles the VCL with gcc first, and CI
// machines are small and busy.
const startTimeout = 60 * time.Second

// Options configure one varnishd.
type Options struct {
	// Origin is the backend's host:port.
	Origin string
	// ACL replaces the entries of the VCL's purgers ACL, e.g.
	// []string{`"127.0.0.2"`}; nil keeps the file's (localhost).
	ACL []string
	// VCL is the VCL file; default the repository's reference VCL.
	VCL string
}

// Varnish is one running varnishd.
type Varnish struct {
	// Addr is its listen address, 127.0.0.1:port.
	Addr string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	once sync.Once
}

// URL is the node's base URL, for the purger's config.
func (v *Varnish) URL() string { return "http://" + v.Addr }

// Start runs a varnishd with opts and returns once it accepts connections.
// Outside the integration layer the test is skipped; in it, the test fails
// if varnishd or the xkey vmod is missing (install them with
// scripts/ensure-varnish.sh).
func Start(t testing.TB, opts Options) *Varnish {
	t.Helper()
	integration.Need(t, "varnishd with the xkey vmod")
	binary, err := exec.LookPath("varnishd")
	if err != nil {
		t.Fatalf("varnishd not found (run scripts/ensure-varnish.sh): %v", err)
	}
	if opts.VCL == "" {
		if opts.VCL, err = ReferenceVCL(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	vclPath := filepath.Join(dir, "test.vcl")
	if err := writeVCL(opts, vclPath); err != nil {
		t.Fatal(err)
	}
	// A port freed just now may be taken again before varnishd binds it.
	var lastErr error
	for range 3 {
		v, err := start(binary, dir, vclPath)
		if err == nil {
			t.Cleanup(v.Stop)
			return v
		}
		lastErr = err
	}
	t.Fatalf("start varnishd: %v", lastErr)
	return nil
}

func start(binary, dir, vclPath string) (*Varnish, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	workDir, err := os.MkdirTemp(dir, "n")
	if err != nil {
		return nil, err
	}
	out := &syncBuffer{}
	cmd := exec.Command(binary,
		"-F", "-n", workDir, "-a", addr, "-f", vclPath,
		"-s", "malloc,32m", "-T", "none", "-j", "none",
		"-p", "thread_pools=1", "-p", "thread_pool_min=5", "-p", "thread_pool_max=100",
	)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so Stop reaches the cache child too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run varnishd: %w", err)
	}
	v := &Varnish{Addr: addr, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(v.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-v.done:
			return nil, fmt.Errorf("varnishd exited at start:\n%s", out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return v, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.Stop()
	return nil, fmt.Errorf("varnishd did not listen on %s within %s:\n%s", addr, startTimeout, out.String())
}

// Stop kills the varnishd (manager and child) and waits for it. It is safe
// to call more than once.
func (v *Varnish) Stop() {
	v.once.Do(func() {
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-v.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
			<-v.done
		}
		// The child may outlive the manager by a moment.
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
	})
}

// Output is what varnishd printed so far.
func (v *Varnish) Output() string { return v.out.String() }

// ReferenceVCL finds examples/varnish/default.vcl above the working
// directory (tests run in their package's directory).
func ReferenceVCL() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "examples", "varnish", "default.vcl")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("examples/varnish/default.vcl not found above the working directory")
		}
		dir = parent
	}
}

var (
	backendBlock = regexp.MustCompile(`(?s)backend default \{.*?\n\}`)
	aclBlock     = regexp.MustCompile(`(?s)acl purgers \{.*?\n\}`)
)

// writeVCL writes the VCL of opts to path: the reference VCL with its
// backend and, if asked, its ACL replaced.
func writeVCL(opts Options, path string) error {
	raw, err := os.ReadFile(opts.VCL)
	if err != nil {
		return fmt.Errorf("read VCL: %w", err)
	}
	host, port, err := net.SplitHostPort(opts.Origin)
	if err != nil {
		return fmt.Errorf("origin %q: %w", opts.Origin, err)
	}
	if !backendBlock.Match(raw) || !aclBlock.Match(raw) {
		return fmt.Errorf("%s: no `backend default {` or `acl purgers {` block to rewrite", opts.VCL)
	}
	vcl := backendBlock.ReplaceAllLiteral(raw, fmt.Appendf(nil, "backend default {\n    .host = %q;\n    .port = %q;\n}", host, port))
	if opts.ACL != nil {
		acl := "acl purgers {\n    " + strings.Join(opts.ACL, ";\n    ") + ";\n}"
		vcl = aclBlock.ReplaceAllLiteral(vcl, []byte(acl))
	}
	return os.WriteFile(path, vcl, 0o644)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects varnishd's output.
type syncBuffer = syncbuf.Buffer
