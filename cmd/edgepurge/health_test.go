package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// TestHealthListenAddressIsServes: the address `edgepurge health` probes
// by default is the one config.Load gives `edgepurge serve` for the same
// file and environment.
func TestHealthListenAddressIsServes(t *testing.T) {
	file := func(body string) string {
		p := filepath.Join(t.TempDir(), "edgepurge.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"nothing", "", nil, config.DefaultListen},
		{"env", "", map[string]string{"EDGEPURGE_LISTEN": "127.0.0.1:9181"}, "127.0.0.1:9181"},
		{"file", file("listen: \":9182\"\n"), nil, ":9182"},
		{"env over file", file("listen: \":9182\"\n"), map[string]string{"EDGEPURGE_LISTEN": ":9183"}, ":9183"},
		{"file without listen", file("log:\n  level: debug\n"), nil, config.DefaultListen},
		{"file expanding", file("listen: \"${PORTVAR:-:9184}\"\n"), nil, ":9184"},
		{"file expanding set", file("listen: \"127.0.0.1:${PORTVAR}\"\n"), map[string]string{"PORTVAR": "9185"}, "127.0.0.1:9185"},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string { return c.env[k] }
			got, err := listenAddress(c.file, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("health probes %q, want %q", got, c.want)
			}
			cfg, err := config.Load(c.file, func(k string) string {
				if k == "EDGEPURGE_DRY_RUN" {
					return "true"
				}
				return c.env[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Listen != got {
				t.Errorf("serve listens on %q, health probes %q", cfg.Listen, got)
			}
		})
	}
	// The rest of the file is not needed: a secret it refers to may be
	// unset in the probe's environment.
	if got, err := listenAddress(file("listen: \":9186\"\ncloudflare:\n  api_token: ${NOT_SET_HERE}\n"), func(string) string { return "" }); err != nil || got != ":9186" {
		t.Errorf("with an unset secret: %q, %v", got, err)
	}
	if _, err := listenAddress(file("listen: \"${NOT_SET_HERE}:80\"\n"), func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "NOT_SET_HERE") {
		t.Errorf("listen from an unset variable: %v", err)
	}
	if _, err := listenAddress(file("listne: \":1\"\n"), func(string) string { return "" }); err == nil {
		t.Error("a misspelt key passed: health must read the file as strictly as serve")
	}
}

func TestHealthProbeHost(t *testing.T) {
	for in, want := range map[string]string{
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:9000":   "127.0.0.1:9000",
		"[::]:9000":      "127.0.0.1:9000",
		"127.0.0.2:9000": "127.0.0.2:9000",
		"[::1]:9000":     "[::1]:9000",
		"localhost:9000": "localhost:9000",
	} {
		if got := probeHost(in); got != want {
			t.Errorf("probeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHealthCommandFindsTheServer runs the command as a HEALTHCHECK does,
// with no URL: it probes the configured address and path.
func TestHealthCommandFindsTheServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok"))
			return
		}
		http.Error(w, `{"ready":false,"failing":["draining"]}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cfg := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(cfg, []byte("listen: \":"+port+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  []string
		args []string
		code int
	}{
		{[]string{"EDGEPURGE_CONFIG=", "EDGEPURGE_LISTEN=:" + port}, []string{"--path", "/healthz"}, 0},
		{[]string{"EDGEPURGE_CONFIG=" + cfg, "EDGEPURGE_LISTEN="}, []string{"--path", "/healthz"}, 0},
		{[]string{"EDGEPURGE_CONFIG=", "EDGEPURGE_LISTEN="}, []string{"--config", cfg, "--path", "/healthz"}, 0},
		// The default path is readiness, which this server fails.
		{[]string{"EDGEPURGE_CONFIG=" + cfg, "EDGEPURGE_LISTEN="}, nil, 1},
		{[]string{"EDGEPURGE_CONFIG=", "EDGEPURGE_LISTEN=" + proc.FreeAddr(t)}, []string{"--path", "/healthz"}, 1},
	} {
		out, code := proc.Run(t, c.env, append([]string{"health"}, c.args...)...)
		if code != c.code {
			t.Errorf("%v health %v: exit %d, want %d: %s", c.env, c.args, code, c.code, out)
		}
	}
}

// TestHealthAgainstServe: the liveness and readiness paths of a real
// `edgepurge serve`, found from EDGEPURGE_LISTEN alone.
func TestHealthAgainstServe(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})
	p := proc.Serve(t, stub, "")
	env := []string{"EDGEPURGE_CONFIG=", "EDGEPURGE_LISTEN=" + strings.TrimPrefix(p.Base, "http://")}
	for _, path := range []string{"/healthz", "/readyz"} {
		if out, code := proc.Run(t, env, "health", "--path", path); code != 0 {
			t.Errorf("health --path %s: exit %d: %s", path, code, out)
		}
	}
}
