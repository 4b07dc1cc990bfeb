package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

var serverBin string

// TestMain builds the real edgepurge binary once, as `make bench` does, for
// the integration layer's TestRunEndToEnd (the unit layer builds nothing).
// Started with the argument "bare" or "naive", the test binary is that
// handler instead, the way the bench binary serves it.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && (os.Args[1] == ownBare || os.Args[1] == ownNaive) && os.Args[2] == "--listen" {
		os.Exit(serveOwnForTest(os.Args[1], os.Args[3]))
	}
	if !integration.Enabled() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "edgepurge-bench-bin")
	if err != nil {
		panic(err)
	}
	serverBin = filepath.Join(dir, "edgepurge")
	out, err := exec.Command("go", "build", "-o", serverBin, "../../cmd/edgepurge").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build edgepurge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func serveOwnForTest(name, addr string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := ServeOwnFromEnv(ctx, name, addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
