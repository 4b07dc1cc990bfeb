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
		ClaimIdle: 30 * time.Second, MaxAge: time.Hour, Poll: time.Second}
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
