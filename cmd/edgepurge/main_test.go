package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// TestMain builds the real binary once: these tests run it as a process,
// the way an operator and the orchestrator do.
func TestMain(m *testing.M) { proc.Main(m) }

func TestPurgeCommandTableJSONAndExitCodes(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})
	p := proc.Serve(t, stub, "")

	out, code := proc.Run(t, nil, "purge", "--server", p.Base, "--token", proc.APIToken, "--page", "p0", "--incident", "inc1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{": purged in", "cloudflare", "redis", "plan: 11 urls", "url     https://p0.status.example.com/incidents/inc1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	out, code = proc.Run(t, []string{"EDGEPURGE_API_TOKEN=" + proc.APIToken}, "purge", "--server", p.Base, "--url", "https://p0.status.example.com/x", "--json")
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
	if !strings.HasPrefix(out, "{\n  \"id\": ") {
		t.Errorf("--json re-sorted the answer's keys (id comes first):\n%s", out)
	}

	stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "boom"})
	out, code = proc.Run(t, nil, "purge", "--server", p.Base, "--token", proc.APIToken, "--page", "p0")
	// Not purged yet, so exit 1; journaled for re-drive, so answered 202.
	if code != 1 || !strings.Contains(out, "failed") || !strings.Contains(out, "HTTP 500") || !strings.Contains(out, "journaled as ") {
		t.Errorf("CDN failure: exit %d:\n%s", code, out)
	}
	stub.ClearFailure()

	out, code = proc.Run(t, nil, "purge", "--server", p.Base, "--token", "wrong", "--page", "p0")
	if code != 1 || !strings.Contains(out, "HTTP 401") {
		t.Errorf("bad token: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, nil, "purge", "--server", p.Base, "--token", proc.APIToken)
	if code != 2 || !strings.Contains(out, "nothing to purge") {
		t.Errorf("nothing to purge: exit %d:\n%s", code, out)
	}
	out, code = proc.Run(t, nil, "purge", "--server", "http://"+proc.FreeAddr(t), "--token", proc.APIToken, "--page", "p0")
	if code != 2 {
		t.Errorf("server down: exit %d:\n%s", code, out)
	}
	if out, code := proc.Run(t, nil, "health", "--url", p.Base+"/readyz"); code != 0 {
		t.Errorf("health: exit %d: %s", code, out)
	}
	if out, code := proc.Run(t, nil, "health", "--url", "http://"+proc.FreeAddr(t)+"/readyz"); code != 1 {
		t.Errorf("health of nothing: exit %d: %s", code, out)
	}
	if strings.Contains(p.Logs.String(), proc.APIToken) || strings.Contains(p.Logs.String(), proc.CFToken) {
		t.Error("a token leaked into the server's logs")
	}
}

func TestServeRefusesToStartWithoutCDNOrDryRun(t *testing.T) {
	out, code := proc.Run(t, []string{"CLOUDFLARE_API_TOKEN=", "EDGEPURGE_DRY_RUN=", "EDGEPURGE_CONFIG="}, "serve")
	if code != 2 || !strings.Contains(out, "EDGEPURGE_DRY_RUN=true") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestHelpShowsNoSecrets(t *testing.T) {
	env := []string{"EDGEPURGE_API_TOKEN=help-secret", "CLOUDFLARE_API_TOKEN=help-secret"}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"purge", "--help"}, {"health", "--help"}} {
		out, code := proc.Run(t, env, args...)
		if code != 0 || strings.Contains(out, "help-secret") {
			t.Errorf("%v: exit %d, leaks: %v", args, code, strings.Contains(out, "help-secret"))
		}
	}
}

// TestSIGTERMDrains checks the orchestrator's view of a shutdown: readiness
// turns 503 at once, the request in flight is answered in full, the process
// exits 0.
func TestSIGTERMDrains(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})
	p := proc.Serve(t, stub, "server:\n  drain_delay: 1500ms\n  shutdown_timeout: 10s\n")
	stub.SetLatency(time.Second)

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, p.Base+"/v1/purge", strings.NewReader(`{"page_id":"p0"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+proc.APIToken)
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
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var readyCode int
	for range 100 {
		resp, err := http.Get(p.Base + "/readyz")
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
	case err := <-p.Done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, p.Logs.String())
		}
		p.Done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatalf("did not exit after SIGTERM:\n%s", p.Logs.String())
	}
	if !strings.Contains(p.Logs.String(), "draining") {
		t.Errorf("no drain in the logs:\n%s", p.Logs.String())
	}
}
