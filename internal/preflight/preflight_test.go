package preflight

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgepurge/edgepurge/internal/config"
)

// A credential not set is a warning (!), never a ✓ beside "not set".
func TestSecretsNotSetIsAWarning(t *testing.T) {
	r := &runner{cfg: &config.Config{}}
	r.secretsWellFormed()
	c := r.results[0]
	if !c.OK || !c.Warning || !strings.Contains(c.Detail, "auth.api_token not set") {
		t.Errorf("check = %+v, want passed with a warning naming auth.api_token", c)
	}
	var b strings.Builder
	Report{OK: true, Checks: r.results}.WriteText(&b)
	if !strings.HasPrefix(b.String(), "! secrets") {
		t.Errorf("text:\n%s", b.String())
	}
}

// A dry run says so in its own line and in the verdict; a detail's further
// lines (every problem of a config file) align under its first; counts
// agree with their nouns.
func TestWriteText(t *testing.T) {
	var b strings.Builder
	Report{OK: true, DryRun: true, Checks: []Check{{Name: "mode", OK: true, Warning: true, Detail: "DRY RUN"}}}.WriteText(&b)
	if want := "! mode                         DRY RUN\nall checks passed, but this is a DRY RUN: nothing will be purged\n"; b.String() != want {
		t.Errorf("dry run:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	ConfigFailed(errSplit("a: line 1: x\nb: line 2: y")).WriteText(&b)
	lines := strings.Split(b.String(), "\n")
	col := func(line, s string) int { return utf8.RuneCountInString(line[:strings.Index(line, s)]) }
	if col(lines[0], "a: line 1") != col(lines[1], "b: line 2") {
		t.Errorf("misaligned:\n%s", b.String())
	}
	if plural(1, "rule renders", "rules render") != "1 rule renders" || plural(2, "page", "pages") != "2 pages" {
		t.Error("plural")
	}
}

type errSplit string

func (e errSplit) Error() string { return string(e) }
