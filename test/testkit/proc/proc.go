// Package proc runs the real edgepurge binary as a child process, the way
// an operator and the orchestrator do, for the tests of the command itself
// (cmd/edgepurge) and the process-fault suite (test/fault). Each test
// package's TestMain calls Main, which builds the binary once for that
// package; Serve starts `edgepurge serve` against the Cloudflare stand-in
// and the shared Redis, and Run runs any other command. It is test-only:
// nothing but tests imports it.
package proc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// The package built by Main.
const mainPackage = "github.com/edgepurge/edgepurge/cmd/edgepurge"

// The credentials and zone that Serve gives the process and the stand-in
// accepts.
const (
	CFToken  = "cf-token-cli-test"
	Zone     = "zone-cli"
	APIToken = "api-token-cli-test"
)

// binary is the path of the binary Main built.
var binary string

// Main is a test package's TestMain: it builds the real binary once (go
// build of cmd/edgepurge, from the module root), runs the package's tests,
// removes the binary and exits with the tests' code. A failed build exits 1
// before any test runs. Those tests run the binary against Redis, so
// outside the integration layer none of them runs (integration.Gate).
func Main(m *testing.M) {
	integration.Gate("the built edgepurge binary and Redis at " + redistest.SharedAddr)
	dir, err := os.MkdirTemp("", "edgepurge-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "edgepurge")
	if err := build(binary); err != nil {
		fmt.Fprintf(os.Stderr, "build edgepurge: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Binary is the path of the binary built by Main.
func Binary() string {
	if binary == "" {
		panic("proc: no binary; call proc.Main(m) from the package's TestMain")
	}
	return binary
}

// build runs `go build -o out` of cmd/edgepurge in the module root.
func build(out string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", out, mainPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, b)
	}
	return nil
}

// Root is the repository's root, the directory holding go.mod, for a
// test that reads the repository's files.
func Root(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// moduleRoot walks up from the working directory (a test's package
// directory) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Proc is a running edgepurge process.
type Proc struct {
	Cmd  *exec.Cmd
	Base string          // http://host:port it listens on
	Logs *syncbuf.Buffer // its stdout and stderr
	// Done receives cmd.Wait's result once; whoever takes it puts it back
	// for the cleanup, which waits on it after killing the process.
	Done chan error
}

// FreeAddr is a 127.0.0.1 address with a port free a moment ago.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Serve starts `edgepurge serve` against a stand-in, from the environment
// plus the config file body (may be empty).
func Serve(t *testing.T, stub *cfstub.Server, configBody string) *Proc {
	t.Helper()
	cfBase, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	prefix := redistest.Prefix(t)
	addr := FreeAddr(t)
	args := []string{"serve"}
	if configBody != "" {
		p := filepath.Join(t.TempDir(), "edgepurge.yaml")
		if err := os.WriteFile(p, []byte(configBody), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	cmd := exec.Command(Binary(), args...)
	cmd.Env = append(os.Environ(),
		"EDGEPURGE_LISTEN="+addr,
		"CLOUDFLARE_API_TOKEN="+CFToken,
		"CLOUDFLARE_ZONE_ID="+Zone,
		"CLOUDFLARE_BASE_URL="+cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_KEYS="+prefix+"statuspage:{page_id}:summary",
		"EDGEPURGE_JOURNAL_STREAM="+prefix+"journal",
		"EDGEPURGE_API_TOKEN="+APIToken,
		"REDIS_URL=redis://"+redistest.SharedAddr+"/0",
	)
	p := &Proc{Cmd: cmd, Base: "http://" + addr, Logs: &syncbuf.Buffer{}, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.Done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.Done
	})
	p.WaitReady(t)
	return p
}

// WaitReady waits until /readyz answers 200, failing the test (with the
// process's logs) after 500 tries.
func (p *Proc) WaitReady(t *testing.T) {
	t.Helper()
	for range 500 {
		resp, err := http.Get(p.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("edgepurge never became ready; logs:\n%s", p.Logs.String())
}

// Exited waits for p to exit and returns its error; p.Done is refilled for
// the cleanup.
func (p *Proc) Exited(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.Done:
		p.Done <- err
		return err
	case <-time.After(within):
		t.Fatalf("edgepurge did not exit within %s", within)
		return nil
	}
}

// Run runs the CLI and returns its output and exit code.
func Run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(Binary(), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return string(out), 0
}
