package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

var binary string

// TestMain builds the real binary once: these tests run it as a process,
// the way an operator and the orchestrator do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edgepurge-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "edgepurge")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build edgepurge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	cfToken  = "cf-token-cli-test"
	zone     = "zone-cli"
	apiToken = "api-token-cli-test"
)

type proc struct {
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
	done chan error
}

// lockedBuffer collects a child process's output.
type lockedBuffer = syncbuf.Buffer

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts `edgepurge serve` against a stand-in, from the environment
// plus the config file body (may be empty).
func serve(t *testing.T, stub *cfstub.Server, configBody string) *proc {
	t.Helper()
	cfBase, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	prefix := redistest.Prefix(t)
	addr := freeAddr(t)
	args := []string{"serve"}
	if configBody != "" {
		p := filepath.Join(t.TempDir(), "edgepurge.yaml")
		if err := os.WriteFile(p, []byte(configBody), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(),
		"EDGEPURGE_LISTEN="+addr,
		"CLOUDFLARE_API_TOKEN="+cfToken,
		"CLOUDFLARE_ZONE_ID="+zone,
		"CLOUDFLARE_BASE_URL="+cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_KEYS="+prefix+"statuspage:{page_id}:summary",
		"EDGEPURGE_JOURNAL_STREAM="+prefix+"journal",
		"EDGEPURGE_API_TOKEN="+apiToken,
		"REDIS_URL=redis://"+redistest.SharedAddr+"/0",
	)
	p := &proc{cmd: cmd, base: "http://" + addr, logs: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	p.waitReady(t)
	return p
}

func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	for range 500 {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("edgepurge never became ready; logs:\n%s", p.logs.String())
}

// run runs the CLI and returns its output and exit code.
func run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
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

func TestPurgeCommandTableJSONAndExitCodes(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{cfToken}})
	p := serve(t, stub, "")

	out, code := run(t, nil, "purge", "--server", p.base, "--token", apiToken, "--page", "p0", "--incident", "inc1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{": purged in", "cloudflare", "redis", "plan: 11 urls", "url     https://p0.status.example.com/incidents/inc1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	out, code = run(t, []string{"EDGEPURGE_API_TOKEN=" + apiToken}, "purge", "--server", p.base, "--url", "https://p0.status.example.com/x", "--json")
	if code != 0 {
		t.Fatalf("json exit %d:\n%s", code, out)
	}
	var a struct {
		Status string `json:"status"`
		Plan   struct {
			URLs []string `json:"urls"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Status != "purged" || len(a.Plan.URLs) != 1 {
		t.Errorf("--json output %q: %v", out, err)
	}

	stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "boom"})
	out, code = run(t, nil, "purge", "--server", p.base, "--token", apiToken, "--page", "p0")
	// Not purged yet, so exit 1; journaled for re-drive, so answered 202.
	if code != 1 || !strings.Contains(out, "failed") || !strings.Contains(out, "HTTP 500") || !strings.Contains(out, "journaled as ") {
		t.Errorf("CDN failure: exit %d:\n%s", code, out)
	}
	stub.ClearFailure()

	out, code = run(t, nil, "purge", "--server", p.base, "--token", "wrong", "--page", "p0")
	if code != 1 || !strings.Contains(out, "HTTP 401") {
		t.Errorf("bad token: exit %d:\n%s", code, out)
	}
	out, code = run(t, nil, "purge", "--server", p.base, "--token", apiToken)
	if code != 2 || !strings.Contains(out, "nothing to purge") {
		t.Errorf("nothing to purge: exit %d:\n%s", code, out)
	}
	out, code = run(t, nil, "purge", "--server", "http://"+freeAddr(t), "--token", apiToken, "--page", "p0")
	if code != 2 {
		t.Errorf("server down: exit %d:\n%s", code, out)
	}
	if out, code := run(t, nil, "health", "--url", p.base+"/readyz"); code != 0 {
		t.Errorf("health: exit %d: %s", code, out)
	}
	if out, code := run(t, nil, "health", "--url", "http://"+freeAddr(t)+"/readyz"); code != 1 {
		t.Errorf("health of nothing: exit %d: %s", code, out)
	}
	if strings.Contains(p.logs.String(), apiToken) || strings.Contains(p.logs.String(), cfToken) {
		t.Error("a token leaked into the server's logs")
	}
}

func TestServeRefusesToStartWithoutCDNOrDryRun(t *testing.T) {
	out, code := run(t, []string{"CLOUDFLARE_API_TOKEN=", "EDGEPURGE_DRY_RUN=", "EDGEPURGE_CONFIG="}, "serve")
	if code != 2 || !strings.Contains(out, "EDGEPURGE_DRY_RUN=true") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestHelpShowsNoSecrets(t *testing.T) {
	env := []string{"EDGEPURGE_API_TOKEN=help-secret", "CLOUDFLARE_API_TOKEN=help-secret"}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"purge", "--help"}, {"health", "--help"}} {
		out, code := run(t, env, args...)
		if code != 0 || strings.Contains(out, "help-secret") {
			t.Errorf("%v: exit %d, leaks: %v", args, code, strings.Contains(out, "help-secret"))
		}
	}
}

// TestSIGTERMDrains checks the orchestrator's view of a shutdown: readiness
// turns 503 at once, the request in flight is answered in full, the process
// exits 0.
func TestSIGTERMDrains(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{cfToken}})
	p := serve(t, stub, "server:\n  drain_delay: 1500ms\n  shutdown_timeout: 10s\n")
	stub.SetLatency(time.Second)

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, p.base+"/v1/purge", strings.NewReader(`{"page_id":"p0"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- result{code: resp.StatusCode, body: string(b)}
	}()
	for stub.Waiting() == 0 { // the purge has reached the CDN
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var readyCode int
	for range 100 {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			readyCode = resp.StatusCode
			resp.Body.Close()
			if readyCode == http.StatusServiceUnavailable {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if readyCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during drain = %d, want 503", readyCode)
	}
	r := <-inflight
	if r.err != nil || r.code != http.StatusOK || !strings.Contains(r.body, `"status":"purged"`) {
		t.Errorf("in-flight request: %d %q %v", r.code, r.body, r.err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, p.logs.String())
		}
		p.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatalf("did not exit after SIGTERM:\n%s", p.logs.String())
	}
	if !strings.Contains(p.logs.String(), "draining") {
		t.Errorf("no drain in the logs:\n%s", p.logs.String())
	}
}
