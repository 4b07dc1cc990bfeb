package client

import (
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// Lines printed apart (log --follow: the header and first batch, then one
// new record at a time) stay in the header's columns.
func TestWriteRecordsColumnsHoldAcrossCalls(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	WriteRecords(&b, []audit.Record{{Time: at, Source: "hook", ID: "msg_1", Page: "p0", Status: "purged", HTTPStatus: 200}}, true)
	WriteRecords(&b, []audit.Record{{Time: at, Source: "statuspage", ID: "sp_e1205d48ebc3a0a4e70", Page: "p7xk3m9q2w1z", Status: "journaled", HTTPStatus: 202,
		Plan: audit.PlanSize{URLs: 1500}, DurationMS: 10012.5}}, false)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := func(line, s string) int { return strings.Index(line, s) }
	for _, c := range [][3]string{{"SOURCE", "hook", "statuspage"}, {"STATUS", "purged", "journaled"}, {"BACKENDS", "", ""}} {
		if c[1] == "" {
			if col(lines[0], "BACKENDS") != len(lines[1]) || len(lines[1]) != len(lines[2]) {
				t.Errorf("BACKENDS column moves:\n%s", b.String())
			}
			continue
		}
		if col(lines[0], c[0]) != col(lines[1], c[1]) || col(lines[1], c[1]) != col(lines[2], c[2]) {
			t.Errorf("%s column moves:\n%s", c[0], b.String())
		}
	}
}

// TIME is UTC and says so, whatever the local zone of the record or host.
func TestWriteRecordsTimeIsUTC(t *testing.T) {
	ny := time.FixedZone("EST", -5*3600)
	var b strings.Builder
	WriteRecords(&b, []audit.Record{{Time: time.Date(2026, 12, 7, 4, 38, 47, 0, ny), Source: "manual", ID: "man_1"}}, false)
	if !strings.HasPrefix(b.String(), "2026-12-07 09:38:47Z  manual") {
		t.Errorf("want the time in UTC with Z, got %q", b.String())
	}
}

// The plan line counts in words that agree with the number.
func TestWriteTablePlural(t *testing.T) {
	var b strings.Builder
	WriteTable(&b, &chain.Answer{ID: "m1", Status: "dry_run", Plan: plan.Plan{URLs: []string{"https://a/", "https://b/"}, Keys: []string{"k"}, Prefixes: []string{"https://a/x"}, KeySets: []string{"s"}}})
	if want := "plan: 2 urls, 0 tags, 0 hosts, 1 prefix, 1 key, 1 key set\n"; !strings.Contains(b.String(), want) {
		t.Errorf("table:\n%s\nwant %q", b.String(), want)
	}
}
