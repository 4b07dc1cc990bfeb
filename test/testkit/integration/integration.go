// Package integration is the one switch between the test layers. `go test
// ./...` alone runs the unit layer: nothing that needs Redis, redis-server,
// varnishd, Chromium, Prometheus or the built edgepurge binary, so a
// contributor has an answer in seconds. `make test` (and so CI) sets
// EDGEPURGE_INTEGRATION=1, which runs everything; then a part that is
// missing fails its test instead of skipping it, so a run that was meant to
// be whole never passes quietly with less.
//
// A test that needs a real part calls Need (the testkit helpers that start
// or connect to one call it for their callers); a package that is an
// integration layer as a whole calls Main from its TestMain.
package integration

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Env is the environment variable that turns the integration layer on
// when it is "1" (or any other true of strconv.ParseBool).
const Env = "EDGEPURGE_INTEGRATION"

// Enabled reports whether the integration layer runs: Env is true.
func Enabled() bool {
	on, err := strconv.ParseBool(os.Getenv(Env))
	return err == nil && on
}

// Need skips t, saying what it needs and how to run it, unless the
// integration layer runs. needs names the part, such as "Redis at
// 127.0.0.1:6379".
func Need(t testing.TB, needs string) {
	t.Helper()
	if !Enabled() {
		t.Skip(reason(needs))
	}
}

// Main is the TestMain of a package that is an integration layer as a
// whole: Gate, then the package's tests.
func Main(m *testing.M, needs string) {
	Gate(needs)
	os.Exit(m.Run())
}

// Gate comes first in the TestMain of a package that is an integration
// layer as a whole and sets something up for its tests (builds a binary):
// outside the integration layer it says why and exits 0 before that, with
// none of the package's tests run; in it, it returns.
func Gate(needs string) {
	if !Enabled() {
		fmt.Println("skip: " + reason(needs))
		os.Exit(0)
	}
}

func reason(needs string) string {
	return fmt.Sprintf("integration layer: needs %s; run `make test` or set %s=1", needs, Env)
}
