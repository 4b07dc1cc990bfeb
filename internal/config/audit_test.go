package config

import (
	"testing"
	"time"
)

func TestCanaryDefaultsAndValidation(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"}
	getenv := func(k string) string { return env[k] }

	cfg, err := Load(writeFile(t, "canary:\n  url: https://c.example.com/x\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Canary; c.Interval != 30*time.Second || c.MaxAge != 90*time.Second || c.Zone != "z" || !c.Enabled() {
		t.Errorf("canary defaults: %+v", c)
	}
	if a := cfg.Audit; a.Stream != "edgepurge:audit" || a.MaxLen != 10000 || a.Buffer != 1024 || a.Memory != 1000 {
		t.Errorf("audit defaults: %+v", a)
	}
	if cfg, err := Load("", getenv); err != nil || cfg.Canary.Enabled() {
		t.Errorf("canary must be off by default: %+v %v", cfg.Canary, err)
	}
	checkLoadErrors(t, getenv, map[string]string{
		"canary:\n  url: /relative\n":                                 `canary.url="/relative"`,
		"canary:\n  tag: t\n  interval: 10ms\n":                       "canary.interval=10ms",
		"canary:\n  tag: t\n  interval: 10s\n  max_age: 5s\n":         "canary.max_age=5s",
		"audit:\n  max_len: -1\n":                                     "audit.max_len=-1",
		"canary:\n  tag: t\n  zone: \"\"\ncloudflare:\n  plan: pro\n": "",
	})
}
