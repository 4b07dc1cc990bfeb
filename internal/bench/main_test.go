package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

var serverBin string

// TestMain builds the real edgepurge binary once, as `make bench` does, for
// the integration layer's TestRunEndToEnd (the unit layer builds nothing).
// Started with the argument "bare", the test binary is the bare handler
// instead, the way the bench binary serves it.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "bare" && os.Args[2] == "--listen" && len(os.Args) == 4 {
		os.Exit(serveBareForTest(os.Args[3]))
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

func serveBareForTest(addr string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	b, err := NewBare(strings.Split(os.Getenv("EDGEPURGE_WEBHOOK_SECRETS"), ","), os.Getenv("EDGEPURGE_STATUSPAGE_TOKEN"))
	if err == nil {
		err = ServeBare(ctx, addr, b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
