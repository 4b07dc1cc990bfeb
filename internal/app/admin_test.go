package app

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
)

// Profiles are served on the admin listener (server.admin_listen) and
// never on the public one that takes the hooks. No I/O
// but loopback listeners: New dials nothing.
func TestProfilingOnTheAdminListenerOnly(t *testing.T) {
	adminAddr := freeAddr(t)
	cfg, err := config.Load("", func(k string) string {
		return map[string]string{"EDGEPURGE_DRY_RUN": "true", "EDGEPURGE_ADMIN_LISTEN": adminAddr, "REDIS_URL": "redis://127.0.0.1:1/0"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler), Build{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	stop := a.startAdmin()
	defer stop()
	public, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Server.Serve(public)
	defer a.Server.Shutdown(t.Context())

	if code, body := httpGet(t, "http://"+adminAddr+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("admin listener /debug/pprof/: %d %.100q, want 200 and the index", code, body)
	}
	if code, _ := httpGet(t, "http://"+adminAddr+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("admin listener goroutine profile: %d", code)
	}
	if code, _ := httpGet(t, "http://"+adminAddr+"/debug/pprof/cmdline"); code == http.StatusOK {
		t.Error("the admin listener serves the command line")
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/heap"} {
		if code, _ := httpGet(t, "http://"+public.Addr().String()+path); code != http.StatusNotFound {
			t.Errorf("public listener %s: %d, want 404", path, code)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
