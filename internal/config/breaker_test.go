package config

import (
	"strings"
	"testing"
	"time"
)

func TestBreakerDefaultsFileAndValidation(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"}
	getenv := func(k string) string { return env[k] }

	cfg, err := Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Cloudflare.Breaker; b.Disabled || b.Failures != 5 || b.Cooldown != 10*time.Second {
		t.Errorf("defaults: %+v, want 5 failures, 10s", b)
	}
	cfg, err = Load(writeFile(t, "cloudflare:\n  breaker: {failures: 2, cooldown: 1500ms}\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Cloudflare.Breaker; b.Disabled || b.Failures != 2 || b.Cooldown != 1500*time.Millisecond {
		t.Errorf("from the file: %+v, want 2 failures, 1.5s", b)
	}
	for body, want := range map[string]string{
		"cloudflare:\n  breaker: {failures: -1}\n":  "cloudflare.breaker.failures=-1",
		"cloudflare:\n  breaker: {cooldown: -1s}\n": "cloudflare.breaker.cooldown=-1s",
		"cloudflare:\n  breaker: {failure: 3}\n":    "failure",
	} {
		if _, err := Load(writeFile(t, body), getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", body, err, want)
		}
	}
}
