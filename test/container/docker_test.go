// Package container builds the project's Dockerfile with a real Docker
// engine and runs the image against the real Redis and the Cloudflare
// stand-in (test/cfstub), on the host's network: `make test-container`,
// which .ci/run calls. Base images cannot be pulled here, so the test
// builds local stand-ins for them first (busybox-static, the Go toolchain
// in /usr/local/go and the CA certificates; see standin_test.go) and
// passes them as the Dockerfile's BUILD_IMAGE and RUNTIME_IMAGE.
//
// The tests run only with EDGEPURGE_CONTAINER_TEST=1 (the make target sets
// it, after scripts/ensure-docker.sh made sure an engine answers);
// otherwise they skip, so `go test ./...` needs no Docker.
package container

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// enabled skips the test unless the container tests were asked for.
func enabled(t *testing.T) {
	t.Helper()
	if os.Getenv("EDGEPURGE_CONTAINER_TEST") != "1" {
		t.Skip("needs a Docker engine: run `make test-container` (sets EDGEPURGE_CONTAINER_TEST=1)")
	}
}

// docker runs the docker client and returns its stdout; a failure fails
// the test with the command's output.
func docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := dockerErr(nil, args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// dockerErr runs the docker client with stdin (may be nil) and returns its
// stdout, or an error holding its stderr.
func dockerErr(stdin io.Reader, args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	// The classic builder: BuildKit needs the buildx plugin, which
	// Debian's docker.io does not ship. Nothing in the Dockerfile needs
	// BuildKit.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w\n%s%s", err, tail(stdout.String(), 40), tail(stderr.String(), 40))
	}
	return stdout.String(), nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// inspect is `docker inspect -f format name`, trimmed.
func inspect(t testing.TB, format, name string) string {
	t.Helper()
	return strings.TrimSpace(docker(t, "inspect", "-f", format, name))
}

// waitFor polls cond every interval until it returns true or within passes.
func waitFor(within, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// removeContainer removes a container, running or not, and says so in
// the log if it could not.
func removeContainer(t testing.TB, name string) {
	if out, err := dockerErr(nil, "rm", "-f", "-v", name); err != nil && !strings.Contains(err.Error()+out, "No such container") {
		t.Logf("cleanup: docker rm %s: %v", name, err)
	}
}

// removeImages removes every image carrying the run's label, the
// classic builder's intermediate images included (they inherit the
// label from the stand-in base images), newest first so that children
// go before their parents, then the tags given.
func removeImages(t testing.TB, label string, tags ...string) {
	for _, tag := range tags {
		_, _ = dockerErr(nil, "rmi", "-f", tag)
	}
	for range 3 { // a parent refused while a child existed goes on the next pass
		out, err := dockerErr(nil, "image", "ls", "-a", "-q", "--no-trunc", "--filter", "label="+label)
		if err != nil {
			t.Logf("cleanup: list images: %v", err)
			return
		}
		ids := strings.Fields(out)
		if len(ids) == 0 {
			return
		}
		for _, id := range ids {
			_, _ = dockerErr(nil, "rmi", "-f", id)
		}
	}
	if out, _ := dockerErr(nil, "image", "ls", "-a", "-q", "--filter", "label="+label); strings.TrimSpace(out) != "" {
		t.Errorf("cleanup: images of this run remain: %s", strings.Join(strings.Fields(out), " "))
	}
}

// runLabel is the label key every container and image of a run carries;
// its value is "<pid>-<n>", the pid of the test process.
const runLabel = "edgepurge.test.run"

// removeLeftovers removes the containers and images of earlier runs
// whose test process is gone (killed by a timeout before its cleanup
// ran). Runs still alive are left alone.
func removeLeftovers(t testing.TB) {
	out, err := dockerErr(nil, "ps", "-a", "--filter", "label="+runLabel, "--format", `{{.Names}} {{.Label "`+runLabel+`"}}`)
	if err != nil {
		t.Logf("leftovers: %v", err)
		return
	}
	runs := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, run, ok := strings.Cut(l, " "); ok && dead(run) {
			removeContainer(t, name)
			runs[run] = true
		}
	}
	out, _ = dockerErr(nil, "image", "ls", "-a", "--filter", "label="+runLabel, "--format", `{{.ID}}`)
	for _, id := range strings.Fields(out) {
		run, _ := dockerErr(nil, "image", "inspect", "-f", `{{index .Config.Labels "`+runLabel+`"}}`, id)
		if run = strings.TrimSpace(run); dead(run) {
			runs[run] = true
		}
	}
	for run := range runs {
		t.Logf("removing what the dead run %s left", run)
		removeImages(t, runLabel+"="+run, "edgepurge-test/edgepurge:"+run, "edgepurge-test/build-standin:"+run, "edgepurge-test/runtime-standin:"+run)
	}
}

// dead reports whether the test process of run is gone.
func dead(run string) bool {
	pid, _, ok := strings.Cut(run, "-")
	if !ok || pid == "" {
		return false
	}
	_, err := os.Stat(filepath.Join("/proc", pid))
	return os.IsNotExist(err)
}
