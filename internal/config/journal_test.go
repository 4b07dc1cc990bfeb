package config

import (
	"strings"
	"testing"
	"time"
)

func TestJournalDefaultsEnvAndValidation(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"}
	getenv := func(k string) string { return env[k] }

	cfg, err := Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := Journal{Stream: "edgepurge:journal", Group: "edgepurge", DeadStream: "edgepurge:journal:dead",
		ClaimIdle: 30 * time.Second, MaxAge: time.Hour, Poll: time.Second, MaxEntries: 20000, MaxDead: 10000}
	if cfg.Journal != want {
		t.Errorf("defaults: %+v, want %+v", cfg.Journal, want)
	}

	env["EDGEPURGE_JOURNAL_STREAM"] = "t1:journal"
	cfg, err = Load(writeFile(t, "journal:\n  claim_idle: 2s\n  max_age: 5s\n  poll: 100ms\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if j := cfg.Journal; j.Stream != "t1:journal" || j.DeadStream != "t1:journal:dead" || j.ClaimIdle != 2*time.Second ||
		j.MaxAge != 5*time.Second || j.Poll != 100*time.Millisecond || j.Disabled {
		t.Errorf("from file and environment: %+v", j)
	}
	delete(env, "EDGEPURGE_JOURNAL_STREAM")

	env["EDGEPURGE_JOURNAL_DISABLED"] = "yes"
	if _, err := Load("", getenv); err == nil || !strings.Contains(err.Error(), `EDGEPURGE_JOURNAL_DISABLED="yes"`) {
		t.Errorf("bad EDGEPURGE_JOURNAL_DISABLED: %v", err)
	}
	env["EDGEPURGE_JOURNAL_DISABLED"] = "true"
	if cfg, err := Load("", getenv); err != nil || !cfg.Journal.Disabled {
		t.Errorf("EDGEPURGE_JOURNAL_DISABLED=true: %+v %v", cfg.Journal, err)
	}
	delete(env, "EDGEPURGE_JOURNAL_DISABLED")

	checkLoadErrors(t, getenv, map[string]string{
		"journal:\n  stream: a\n  dead_stream: a\n": `journal.dead_stream="a"`,
		"journal:\n  poll: 1ms\n":                   "journal.poll=1ms",
		"journal:\n  poll: 1s\n  claim_idle: 2s\n":  "journal.claim_idle=2s",
		"journal:\n  max_age: 10ms\n":               "journal.max_age=10ms",
		"journal:\n  disabled: true\n  poll: 1ms\n": "",
	})
}

func TestNewBoundsAreValidated(t *testing.T) {
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ZONE_ID": "z"}
	getenv := func(k string) string { return env[k] }
	for body, want := range map[string]string{
		"journal:\n  max_entries: -1\n":                                  "journal.max_entries=-1",
		"server:\n  purge_timeout: 10s\n  request_timeout: 5s\n":         "server.request_timeout=5s: must be at least server.purge_timeout",
		"readiness:\n  shared_grace: -1s\n":                              "readiness.shared_grace=-1s",
		"pages:\n  p1:\n    hosts: [a.example.com]\n    zone: \"a b\"\n": `page "p1": zone "a b"`,
	} {
		if _, err := Load(writeFile(t, body), getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", body, err, want)
		}
	}
	env["CLOUDFLARE_ZONE_ID"] = "../zones"
	if _, err := Load("", getenv); err == nil || !strings.Contains(err.Error(), `cloudflare.zone_id="../zones"`) {
		t.Errorf("CLOUDFLARE_ZONE_ID=../zones: %v", err)
	}
	env["CLOUDFLARE_ZONE_ID"] = "023e105f4ecef8ad9ca31a8372d0c353"
	cfg, err := Load(writeFile(t, "server:\n  request_timeout: 25s\nreadiness:\n  shared_grace: 2m\n"), getenv)
	if err != nil || cfg.Server.RequestTimeout != 25*time.Second || cfg.Readiness.SharedGrace != 2*time.Minute {
		t.Errorf("request_timeout, shared_grace: %+v %+v, %v", cfg.Server, cfg.Readiness, err)
	}
	if cfg, _ := Load("", getenv); cfg.Server.RequestTimeout != DefaultRequestTimeout || cfg.Readiness.SharedGrace != 0 {
		t.Errorf("defaults: request_timeout %s, shared_grace %s", cfg.Server.RequestTimeout, cfg.Readiness.SharedGrace)
	}
}
