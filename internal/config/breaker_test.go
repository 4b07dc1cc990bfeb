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
	if want := (Breaker{Failures: 5, Cooldown: 10 * time.Second}); cfg.Cloudflare.Breaker != want {
		t.Errorf("defaults: %+v, want %+v", cfg.Cloudflare.Breaker, want)
	}
	cfg, err = Load(writeFile(t, "cloudflare:\n  breaker: {failures: 2, cooldown: 1500ms}\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Breaker{Failures: 2, Cooldown: 1500 * time.Millisecond}); cfg.Cloudflare.Breaker != want {
		t.Errorf("from the file: %+v, want %+v", cfg.Cloudflare.Breaker, want)
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
