package console_test

// The console tells the truth (issue 23): a replay's result stays beside
// its button, and the re-drive attempts of one journal entry are one row.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// noBreaker keeps Cloudflare's circuit breaker out of a test that fails
// several purges in a row and then expects the next one to reach the CDN.
func noBreaker(cfg *config.Config) { cfg.Cloudflare.Breaker.Disabled = true }

// cdnDown is a Cloudflare failure every purge gets until it is cleared.
var cdnDown = cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"}

// journalEvent sends an incident event while the CDN fails and returns
// the journal entry it was recorded as.
func journalEvent(t *testing.T, h *harness.H, id string) string {
	t.Helper()
	code, raw := h.SendEvent(id, []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"`+id+`"}`))
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusAccepted || a.Status != fanout.StatusJournaled || a.JournalID == "" {
		t.Fatalf("event %s during the CDN failure: %d %s", id, code, raw)
	}
	return a.JournalID
}

// TestConsoleReplayResultBesideTheButton: "Replay now" answers beside the
// button it was pressed on, and the answer stays there across the polls:
// a replay while the CDN still fails shows the CDN's error next to the
// entry's button; once the CDN is back, a replay purges the entry, which
// leaves the journal, and "purged" stays where the entry was until
// dismissed.
func TestConsoleReplayResultBesideTheButton(t *testing.T) {
	h := startConsole(t, noBreaker)
	b := newBrowser(t, 1280, 900)

	h.Stub.SetFailure(cdnDown)
	id := journalEvent(t, h, "msg_replay_beside")
	signIn(b, h, harness.TestAPIToken)

	li := fmt.Sprintf(`#journal-list li:has(> details[data-id=%q])`, id)
	key := "journal|" + id
	// The result is in the same row of actions as the button.
	result := fmt.Sprintf(`%s .actions[data-actions-for=%q] [data-result-for=%q]`, li, key, key)
	b.waitFor("the journaled entry", `document.querySelector('`+li+`') !== null`)
	if b.bool(`document.querySelector('[data-result-for]')`) {
		t.Fatal("a replay result is shown before any replay")
	}

	// Still failing: the error beside the button, in red, and the entry stays.
	b.click(li + ` button[data-action="replay"]`)
	b.click(fmt.Sprintf(`button[data-confirm=%q]`, key))
	b.waitText(result, "Replayed "+id+": still failing: ")
	if s := b.text(result); !strings.Contains(s, "HTTP 500") || !b.bool(`document.querySelector('`+result+`').classList.contains('bad')`) {
		t.Errorf("the failed replay's result: %q (want the CDN's HTTP 500, in red)", s)
	}
	if !b.bool(`document.querySelector('` + li + ` button[data-action="replay"]')`) {
		t.Error("after a failed replay the entry has no replay button")
	}
	// Several polls later (the re-drive has reached the audit trail, and
	// the summary's clock moved on) it is still there.
	b.waitFor("the re-drive in the recent purges", `document.querySelector('#purge-list details[data-redrive-of="msg_replay_beside"]') !== null`)
	before := b.text("#purges-summary")
	b.waitFor("another poll", fmt.Sprintf(`document.getElementById('purges-summary').textContent !== %q`, before))
	b.waitText(result, "still failing")
	b.shot("12-replay-still-failing")

	// The CDN is back: the replay purges; the entry leaves the journal and
	// its result stays where it was.
	h.Stub.ClearFailure()
	b.click(li + ` button[data-action="replay"]`)
	b.click(fmt.Sprintf(`button[data-confirm=%q]`, key))
	gone := fmt.Sprintf(`#journal-list li.replayed[data-replayed=%q]`, id)
	b.waitFor("the purged entry to leave the journal", `document.querySelector('`+li+`') === null && document.querySelector('`+gone+`') !== null`)
	b.waitText("#journal-summary", "0 entries to re-drive")
	res := gone + fmt.Sprintf(` [data-result-for=%q]`, key)
	b.waitText(res, "Replayed "+id+": purged.")
	if !b.bool(`document.querySelector('` + res + `').classList.contains('ok')`) {
		t.Error("the purged replay's result is not shown as a success")
	}
	if s := b.text(gone); !strings.Contains(s, "msg_replay_beside") || !strings.Contains(s, "page p0") {
		t.Errorf("where the entry was: %q, want its event and page", s)
	}
	if _, ok := h.Stub.Purged(harness.TestZone, cfstub.KindFiles)["https://p0.status.example.com/incidents/msg_replay_beside"]; !ok {
		t.Error("the replay did not purge the entry's URLs")
	}
	before = b.text("#purges-summary")
	b.waitFor("another poll", fmt.Sprintf(`document.getElementById('purges-summary').textContent !== %q`, before))
	b.waitText(res, "purged")
	b.shot("13-replay-purged")

	// Dismissed, it is gone for good.
	b.click(fmt.Sprintf(`button[data-dismiss=%q]`, key))
	b.waitFor("the result to go", `document.querySelector('`+gone+`') === null`)
	before = b.text("#purges-summary")
	b.waitFor("another poll", fmt.Sprintf(`document.getElementById('purges-summary').textContent !== %q`, before))
	if b.bool(`document.querySelector('` + gone + `')`) {
		t.Error("a dismissed result came back")
	}
	b.noProblems()
}

// TestConsoleGroupsRedriveAttempts: the recent purges show the re-drive
// attempts of one journal entry as one row under the entry's event id,
// where its newest attempt is, with their count and how they ended, and
// the attempts (newest first) when opened; another entry's re-drive is a
// row of its own, and the events' own records stay rows of their own.
func TestConsoleGroupsRedriveAttempts(t *testing.T) {
	h := startConsole(t, noBreaker)
	b := newBrowser(t, 1280, 900)

	h.Stub.SetFailure(cdnDown)
	one := journalEvent(t, h, "msg_group_1")
	two := journalEvent(t, h, "msg_group_2")
	replay := func(id string, want int) {
		t.Helper()
		if code, body := apiCall(t, h, "POST", "/v1/journal/"+id+"/replay", harness.TestAPIToken); code != want {
			t.Fatalf("replay %s: %d %s, want %d", id, code, body, want)
		}
	}
	replay(two, http.StatusBadGateway)
	for range 3 {
		replay(one, http.StatusBadGateway)
	}
	h.Stub.ClearFailure()
	replay(one, http.StatusOK)
	h.Purges("?source=redrive", 5) // the audit trail is written in the background

	signIn(b, h, harness.TestAPIToken)
	group1 := `#purge-list > li > details[data-redrive-of="msg_group_1"]`
	group2 := `#purge-list > li > details[data-redrive-of="msg_group_2"]`
	b.waitFor("the grouped re-drives", `document.querySelector('`+group1+`') !== null && document.querySelector('`+group2+`') !== null`)
	for sel, want := range map[string]string{
		`#purge-list > li > details[data-redrive-of="msg_group_1"]`: "1",
		`#purge-list > li > details[data-redrive-of="msg_group_2"]`: "1",
		`#purge-list > li > details[data-id="msg_group_1"]`:         "1", // the event's own (hook) record
		`#purge-list > li > details[data-id="msg_group_2"]`:         "1",
		`#purge-list details[data-attempt="msg_group_1"]`:           "4",
		`#purge-list details[data-attempt="msg_group_2"]`:           "1",
	} {
		if n := eval[int](b, `document.querySelectorAll('`+sel+`').length`); fmt.Sprint(n) != want {
			t.Errorf("%s: %d, want %s", sel, n, want)
		}
	}
	// No re-drive is a row of its own: every top-level row of source
	// redrive is a group.
	if n := eval[int](b, `[...document.querySelectorAll('#purge-list > li > details')].filter(d => d.querySelector(':scope > summary').textContent.includes('redrive') && !d.dataset.redriveOf).length`); n != 0 {
		t.Errorf("%d re-drive rows outside a group", n)
	}
	// The newest attempt of all is msg_group_1's purge: its group is first.
	if first := eval[string](b, `document.querySelector('#purge-list > li > details').dataset.redriveOf || ''`); first != "msg_group_1" {
		t.Errorf("the first row re-drives %q, want msg_group_1 (its newest attempt is the newest record)", first)
	}
	sum := b.text(group1 + " > summary")
	for _, want := range []string{"4 re-drive attempts", "purged", "1 purged", "3 failed", "page p0"} {
		if !strings.Contains(sum, want) {
			t.Errorf("msg_group_1's row does not say %q: %s", want, sum)
		}
	}
	if s := b.text(group2 + " > summary"); !strings.Contains(s, "1 re-drive attempt") || !strings.Contains(s, "failed") {
		t.Errorf("msg_group_2's row: %s", s)
	}
	b.waitText("#purges-summary", "re-drive attempts of 1 journal entry grouped")

	// Closed, the attempts are hidden; opened, they are listed newest
	// first, each opening to its own plan and results.
	if b.bool(`document.querySelector('` + group1 + ` details[data-attempt]').checkVisibility()`) {
		t.Error("the attempts show before the group is opened")
	}
	b.click(group1 + " > summary")
	b.waitFor("the attempts", `document.querySelector('`+group1+` details[data-attempt]').checkVisibility()`)
	statuses := eval[[]string](b, `[...document.querySelectorAll('`+group1+` details[data-attempt] > summary .badge')].map(e => e.textContent)`)
	if len(statuses) != 4 || statuses[0] != "purged" || strings.Contains(strings.Join(statuses[1:], " "), "purged") {
		t.Errorf("the attempts' statuses, newest first: %v, want purged then three failures", statuses)
	}
	times := eval[[]string](b, `[...document.querySelectorAll('`+group1+` details[data-attempt] > summary time')].map(e => e.getAttribute('datetime'))`)
	for i := 1; i < len(times); i++ {
		if times[i] > times[i-1] {
			t.Errorf("attempt %d (%s) is newer than attempt %d (%s): not newest first", i, times[i], i-1, times[i-1])
		}
	}
	attempt := group1 + ` details[data-attempt]`
	b.click(attempt + " > summary")
	b.waitFor("the attempt's plan", `document.querySelector('`+attempt+`').open`)
	if s := b.text(attempt + " .plan"); !strings.Contains(s, "cloudflare") || !strings.Contains(s, "msg_group_1") {
		t.Errorf("the newest attempt's plan: %s", s)
	}
	// The group stays open across the polls.
	before := b.text("#purges-summary")
	b.waitFor("another poll", fmt.Sprintf(`document.getElementById('purges-summary').textContent !== %q`, before))
	if !b.bool(`document.querySelector('` + group1 + `').open && document.querySelector('` + attempt + `').open`) {
		t.Error("the group or its attempt closed when the list was refreshed")
	}
	b.shot("14-grouped-redrives")

	// The source filter keeps the groups.
	b.choose("#f-source", "redrive")
	b.waitFor("only the re-drives", `document.querySelector('#purge-list > li > details[data-id]') === null && document.querySelector('`+group1+`') !== null`)
	if n := eval[int](b, `document.querySelectorAll('#purge-list > li').length`); n != 2 {
		t.Errorf("filtered by source redrive: %d rows, want the 2 groups", n)
	}
	b.noProblems()
}
