package config

import (
	"strings"
	"testing"
)

func TestTracingAndAdminListen(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"}
	getenv := func(k string) string { return env[k] }

	cfg, err := Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.AdminListen != "127.0.0.1:9091" || cfg.Tracing != (Tracing{}) {
		t.Errorf("defaults: admin_listen %q, tracing %+v; want loopback 9091 and tracing off", cfg.Server.AdminListen, cfg.Tracing)
	}

	cfg, err = Load(writeFile(t, "server:\n  admin_listen: off\ntracing:\n  endpoint: http://collector:4318\n  instance: edge-1\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.AdminListen != AdminOff || cfg.Tracing.Endpoint != "http://collector:4318" || cfg.Tracing.Instance != "edge-1" {
		t.Errorf("from the file: %q %+v", cfg.Server.AdminListen, cfg.Tracing)
	}

	env["EDGEPURGE_ADMIN_LISTEN"] = "127.0.0.1:6060"
	if cfg, err := Load("", getenv); err != nil || cfg.Server.AdminListen != "127.0.0.1:6060" {
		t.Errorf("EDGEPURGE_ADMIN_LISTEN: %q %v", cfg.Server.AdminListen, err)
	}
	env["EDGEPURGE_ADMIN_LISTEN"] = "9091"
	if _, err := Load("", getenv); err == nil || !strings.Contains(err.Error(), `server.admin_listen "9091": want host:port`) {
		t.Errorf("a port alone: %v", err)
	}
	delete(env, "EDGEPURGE_ADMIN_LISTEN")

	if _, err := Load(writeFile(t, "tracing:\n  endpoint: collector:4318\n"), getenv); err == nil ||
		!strings.Contains(err.Error(), "tracing.endpoint") || !strings.Contains(err.Error(), "http://127.0.0.1:4318") {
		t.Errorf("an endpoint without a scheme: %v", err)
	}
}
