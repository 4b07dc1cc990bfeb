package repo

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

// makeOut runs make with args in the root and returns its stdout and
// stderr together, failing the test on a non-zero exit.
func makeOut(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(needTool(t, "make"), append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = root(t)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMakeBuildSaysItBuilds: the first `make run` builds for minutes; a
// line says so before the build starts.
func TestMakeBuildSaysItBuilds(t *testing.T) {
	out := makeOut(t, "-n", "build")
	want := "building bin/edgepurge (the first build downloads modules and takes a few minutes)"
	i := strings.Index(out, want)
	if i < 0 || i > strings.Index(out, "go build") {
		t.Errorf("make build does not say %q before the build:\n%s", want, out)
	}
}

// TestMakeRedisHonoursREDIS_URL: `make redis` (and so `make run`) takes
// the Redis of REDIS_URL: another host is checked with PING, never started,
// and fails the target with a clear message when it does not answer (never
// printing its password); on this machine a Redis is started on the URL's
// port when nothing answers there.
func TestMakeRedisHonoursREDIS_URL(t *testing.T) {
	cmd := exec.Command(needTool(t, "make"), "--no-print-directory", "-s", "redis", "REDIS_URL=redis://user:s3cret@redis.invalid:6380/0")
	cmd.Dir = root(t)
	cmd.Env = cleanEnv()
	raw, err := cmd.CombinedOutput()
	out := string(raw)
	want := "REDIS_URL names redis.invalid:6380, which does not answer PING"
	if err == nil || !strings.Contains(out, want) || !strings.Contains(out, "fix or unset REDIS_URL") {
		t.Errorf("make redis with a remote REDIS_URL that does not answer: want a failure saying %q, got err %v:\n%s", want, err, out)
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("make redis printed REDIS_URL's password:\n%s", out)
	}

	integration.Need(t, "redis-server and redis-cli")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	p := strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	t.Cleanup(func() { _ = exec.Command("redis-cli", "-p", p, "shutdown", "nosave").Run() })
	out = makeOut(t, "-s", "redis", "REDIS_URL=redis://localhost:"+p+"/0")
	if !strings.Contains(out, "starting redis-server there") {
		t.Errorf("make redis did not start a Redis on port %s:\n%s", p, out)
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+p, time.Second)
	if err != nil {
		t.Fatalf("nothing answers on the port of REDIS_URL after make redis: %v\n%s", err, out)
	}
	conn.Close()
	if out := makeOut(t, "-s", "redis", "REDIS_URL=redis://127.0.0.1:"+p); !strings.Contains(out, "using the Redis answering on 127.0.0.1:"+p) {
		t.Errorf("make redis with a Redis answering:\n%s", out)
	}
	// 127.1 is this machine under a name the script treats as another host:
	// the remote path's PING, with a password, answering.
	if out := makeOut(t, "-s", "redis", "REDIS_URL=redis://:s3cret@127.1:"+p); !strings.Contains(out, "127.1:"+p+", not this machine: it answers PING") || strings.Contains(out, "s3cret") {
		t.Errorf("make redis with another host answering:\n%s", out)
	}
}
