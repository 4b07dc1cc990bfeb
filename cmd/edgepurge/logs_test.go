package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// Every log line of a run with Redis unreachable is one JSON object that a
// strict decoder, refusing duplicate keys, accepts; go-redis's repeated dial
// failures come at most once per interval.
func TestLogsWithRedisDownAreStrictJSON(t *testing.T) {
	addr := proc.FreeAddr(t)
	env := append(os.Environ(), "EDGEPURGE_CONFIG=", "CLOUDFLARE_API_TOKEN=", "EDGEPURGE_DRY_RUN=true",
		"REDIS_URL=redis://"+proc.FreeAddr(t)+"/0", "EDGEPURGE_LISTEN="+addr, "EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_API_TOKEN=t0ken", "EDGEPURGE_PROBE_INTERVAL=1s")
	var logs bytes.Buffer
	cmd := exec.Command(proc.Binary(), "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/purge", strings.NewReader(`{"page_id":"p0"}`))
		req.Header.Set("Authorization", "Bearer t0ken")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	cmd = exec.Command(proc.Binary(), "journal")
	cmd.Env = env
	out, _ := cmd.CombinedOutput() // the same Redis, down
	lines := append(strings.Split(strings.TrimSpace(logs.String()), "\n"), strings.Split(strings.TrimSpace(string(out)), "\n")...)
	redisLines := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "edgepurge: ") { // the CLI's own error, not a log line
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not strict JSON: %v\n%s", err, line)
		}
		if m["msg"] == "redis client" {
			redisLines++
		}
	}
	if !strings.Contains(logs.String(), `"msg":"redis failing: edgepurge's Redis (REDIS_URL or redis.url) does not answer`) {
		t.Errorf("the Redis probe did not log the outage:\n%s", logs.String())
	}
	if redisLines == 0 || redisLines > 2 {
		t.Errorf("%d go-redis lines in a 4 s run and a journal command, want 1 each at most:\n%s\n%s", redisLines, logs.String(), out)
	}
}
