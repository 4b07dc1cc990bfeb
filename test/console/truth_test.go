package console_test

// The console tells the truth (issue 23): a replay's result stays beside
// its button, and the re-drive attempts of one journal entry are one row.

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
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
	if code != http.StatusAccepted || a.Status != chain.StatusJournaled || a.JournalID == "" {
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
		if code, body := h.API("POST", "/v1/journal/"+id+"/replay", harness.TestAPIToken); code != want {
			t.Fatalf("replay %s: %d %s, want %d", id, code, body, want)
		}
	}
	replay(two, http.StatusBadGateway)
	for range 3 {
		replay(one, http.StatusBadGateway)
	}
	h.Stub.ClearFailure()
	// Right after the CDN heals, the queue may still be backing off from
	// the failures (on a busy machine, past the replay's deadline): a
	// person presses "Replay now" again, and so does the test.
	failures := 3 // msg_group_1's failed replays
	for try := 1; ; try++ {
		code, body := h.API("POST", "/v1/journal/"+one+"/replay", harness.TestAPIToken)
		if code == http.StatusOK {
			break
		}
		failures++
		if try == 10 {
			t.Fatalf("replay %s after the CDN healed: %d %s, want 200", one, code, body)
		}
		harness.Sleep()
	}
	attempts := failures + 1
	h.Purges("?source=redrive", attempts+1) // the audit trail is written in the background

	signIn(b, h, harness.TestAPIToken)
	group1 := `#purge-list > li > details[data-redrive-of="msg_group_1"]`
	group2 := `#purge-list > li > details[data-redrive-of="msg_group_2"]`
	b.waitFor("the grouped re-drives", `document.querySelector('`+group1+`') !== null && document.querySelector('`+group2+`') !== null`)
	for sel, want := range map[string]string{
		`#purge-list > li > details[data-redrive-of="msg_group_1"]`: "1",
		`#purge-list > li > details[data-redrive-of="msg_group_2"]`: "1",
		`#purge-list > li > details[data-id="msg_group_1"]`:         "1", // the event's own (hook) record
		`#purge-list > li > details[data-id="msg_group_2"]`:         "1",
		`#purge-list details[data-attempt="msg_group_1"]`:           fmt.Sprint(attempts),
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
	for _, want := range []string{fmt.Sprintf("%d re-drive attempts", attempts), "purged", "1 purged", fmt.Sprintf("%d failed", failures), "page p0"} {
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
	if len(statuses) != attempts || statuses[0] != "purged" || strings.Contains(strings.Join(statuses[1:], " "), "purged") {
		t.Errorf("the attempts' statuses, newest first: %v, want purged then %d failures", statuses, failures)
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

// quickTargets proves the backends every second and calls a target
// failing after 3 s without a success, so that an outage shows within
// seconds; the breaker probes again after 2 s.
func quickTargets(cfg *config.Config) {
	cfg.Probe.Disabled = false
	cfg.Probe.Interval = time.Second
	cfg.Readiness.Window = 3 * time.Second
	cfg.Cloudflare.Breaker.Cooldown = 2 * time.Second
}

// watchForLies records, in the page, every moment the verdict is green
// while a backend row says degraded or failing: the page must never show
// that, not even for one refresh.
const watchForLies = `(() => { window.__lies = [];
	new MutationObserver(() => {
		const bad = document.querySelector('#backend-table tr[data-state="failing"], #backend-table tr[data-state="degraded"]');
		if (bad && document.querySelector('#ready-summary [data-verdict="ok"]')) window.__lies.push(bad.dataset.check + ' ' + bad.dataset.state);
	}).observe(document.getElementById('app'), {subtree: true, childList: true, attributes: true, characterData: true});
	return true; })()`

// TestConsoleBackendsPanelShowsAFailingZone: the Backends panel, first on
// the page, lists Redis and the Cloudflare zone, both ok and the verdict
// green; when the Cloudflare stand-in fails every purge (the probes keep
// calling it), the zone's row turns failing (in red, with its failed calls,
// breaker, last success and the CDN's error) and the verdict red "NOT
// PURGING: cloudflare zone …" although /readyz still answers ready; once the
// stand-in heals, the row is ok and the verdict green again. At no moment
// is the verdict green above a failing or degraded row.
func TestConsoleBackendsPanelShowsAFailingZone(t *testing.T) {
	h := startConsole(t, quickTargets)
	b := newBrowser(t, 1280, 900)
	signIn(b, h, harness.TestAPIToken)

	zone := `#backend-table tr[data-check="cloudflare zone ` + harness.TestZone + `"]`
	redis := `#backend-table tr[data-check="redis"]`
	b.waitFor("both backends ok", fmt.Sprintf(`document.querySelector(%q)?.dataset.state === 'ok' && document.querySelector(%q)?.dataset.state === 'ok'`, zone, redis))
	b.waitFor("the green verdict", `document.querySelector('#ready-summary [data-verdict="ok"]') !== null`)
	if !b.bool(`document.querySelector('#app > section').id === 'backends'`) {
		t.Error("the Backends panel is not the first panel")
	}
	if rows := eval[[]string](b, `[...document.querySelectorAll('#backend-table tbody tr')].map(r => r.dataset.check)`); len(rows) != 2 || rows[0] != "redis" {
		t.Errorf("backend rows %q, want redis then the zone", rows)
	}
	if s := b.text(zone + " td.breaker"); s != "closed" {
		t.Errorf("the zone's breaker: %q, want closed", s)
	}
	if s := b.text(zone + " td.last-success"); !strings.Contains(s, "ago") {
		t.Errorf("the zone's last success: %q, want an age", s)
	}
	if !b.bool(`document.querySelector('` + zone + ` td.last-success time').title !== ''`) {
		t.Error("the last success has no absolute time in its title")
	}
	if !b.bool(watchForLies) {
		t.Fatal("could not watch the page")
	}
	b.shot("15-backends-ok")

	// Every purge fails: the zone turns failing once the window has passed.
	h.Stub.SetFailure(cdnDown)
	b.waitWithin(time.Minute, "the zone failing", fmt.Sprintf(`document.querySelector(%q)?.dataset.state === 'failing'`, zone))
	b.waitFor("the red verdict", `document.querySelector('#ready-summary [data-verdict="bad"]') !== null`)
	b.waitText("#ready-summary", "NOT PURGING: cloudflare zone "+harness.TestZone)
	if code, r := h.Readyz(); code != http.StatusOK || !r.Ready {
		t.Logf("/readyz: %d %+v", code, r) // the verdict's point is that ready alone does not say it
	}
	for cell, want := range map[string]string{"state": "failing for", "last-success": "ago", "error-text": "HTTP 500: code 10000: Internal server error"} {
		if s := b.text(zone + " td." + cell); !strings.Contains(s, want) {
			t.Errorf("the failing zone's %s: %q, want %q", cell, s, want)
		}
	}
	if !b.bool(`document.querySelector('` + zone + ` .badge').classList.contains('bad')`) {
		t.Error("the failing state is not shown in red")
	}
	var failed, calls int
	if _, err := fmt.Sscanf(b.text(zone+" td.calls"), "%d / %d", &failed, &calls); err != nil || failed < 1 || calls < failed {
		t.Errorf("the zone's failed / calls: %q (%v)", b.text(zone+" td.calls"), err)
	}
	if s := b.text(zone + " td.breaker"); s != "closed" && s != "open" && s != "half-open" {
		t.Errorf("the zone's breaker: %q", s)
	}
	if s := b.text(zone + " td.budget"); !strings.Contains(s, "urls") || !strings.Contains(s, " / ") {
		t.Errorf("the zone's budget: %q, want urls used / limit", s)
	}
	b.waitText("#backends-summary", "1 failing")
	if s := b.text(redis); !strings.Contains(s, "ok") {
		t.Errorf("redis while the CDN fails: %s", s)
	}
	b.shot("16-backend-failing")

	// The stand-in heals: the next probe the breaker lets through succeeds.
	h.Stub.ClearFailure()
	b.waitWithin(time.Minute, "the zone ok again", fmt.Sprintf(`document.querySelector(%q)?.dataset.state === 'ok'`, zone))
	b.waitFor("the green verdict again", `document.querySelector('#ready-summary [data-verdict="ok"]') !== null`)
	b.waitText("#ready-summary", "ready")
	if s := b.text(zone + " td.error-text"); s != "—" {
		t.Errorf("the healed zone's last error: %q, want none", s)
	}
	b.shot("17-backend-healed")

	if lies := eval[[]string](b, `window.__lies`); len(lies) > 0 {
		t.Errorf("the verdict was green above %v", lies)
	}
	b.noProblems()
}

// TestConsoleDryRunBanner: a dry-run instance says so at the top of the
// page, in a banner that has no way to close it and stays; the verdict is
// not green; a purge by hand ends in "DRY RUN: nothing was purged", not in
// a success, and reaches no CDN.
func TestConsoleDryRunBanner(t *testing.T) {
	h := startConsole(t, func(cfg *config.Config) { cfg.DryRun = true })
	b := newBrowser(t, 1280, 900)
	signIn(b, h, harness.TestAPIToken)

	b.waitFor("the banner", `document.getElementById('dry-run-banner').checkVisibility()`)
	if s := b.text("#dry-run-banner"); s != "DRY RUN — this instance purges nothing" {
		t.Errorf("the banner says %q", s)
	}
	if !b.bool(`(() => { const r = document.getElementById('dry-run-banner').getBoundingClientRect();
		return r.top < document.getElementById('backends').getBoundingClientRect().top && r.top < 120 && r.height >= 40; })()`) {
		t.Error("the banner is not big and at the top")
	}
	if b.bool(`document.querySelector('#dry-run-banner button, #dry-run-banner a')`) {
		t.Error("the banner can be dismissed")
	}
	b.waitFor("the verdict", `document.querySelector('#ready-summary [data-verdict]') !== null && !document.querySelector('#ready-summary [data-verdict="none"]')`)
	if b.bool(`document.querySelector('#ready-summary [data-verdict="ok"]')`) {
		t.Errorf("the verdict is green in a dry run: %s", b.text("#ready-summary"))
	}
	b.waitText("#ready-summary", "DRY RUN")

	// A purge by hand: the plan, then "Purge now", which purges nothing.
	before := time.Now()
	b.typeInto("#p-page", "p0")
	b.click("#p-preview")
	b.waitFor("the plan", `!document.getElementById('p-plan').hidden`)
	b.click("#p-confirm")
	b.waitText("#p-result", "DRY RUN: nothing was purged")
	if !b.bool(`document.querySelector('#p-result .answer[data-status="dry_run"]')`) {
		t.Errorf("the answer: %s", b.text("#p-result"))
	}
	b.waitText("#notice", "nothing was purged")
	if b.bool(`document.getElementById('notice').classList.contains('ok') || document.querySelector('#p-result .badge.ok')`) {
		t.Errorf("the dry run's purge is shown as a success: notice %q, result %q", b.text("#notice"), b.text("#p-result"))
	}
	if at, ok := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["page:p0"]; ok && at.After(before) {
		t.Error("the dry run purged")
	}
	// The banner stays across the polls.
	sum := b.text("#purges-summary")
	b.waitFor("another poll", fmt.Sprintf(`document.getElementById('purges-summary').textContent !== %q`, sum))
	if !b.bool(`document.getElementById('dry-run-banner').checkVisibility()`) {
		t.Error("the banner went away")
	}
	b.shot("18-dry-run")
	b.noProblems()
}

// TestConsoleVarnishDown is the second case: Varnish the only CDN
// and its one node down. The console shows the node failing and the
// verdict red "NOT PURGING: varnish node …", never a green "ready" above
// the failed purges.
func TestConsoleVarnishDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: the node is down
	prefix := redistest.Prefix(t)
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		consoleConfig(cfg)
		quickTargets(cfg)
		cfg.Audit.Stream = prefix + "audit"
		cfg.Cloudflare = cloudflare.Config{}
		cfg.Varnish.Nodes = []string{node}
	})
	b := newBrowser(t, 1280, 900)
	code, raw := h.SendEvent("msg_varnish_down", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`))
	if code/100 == 2 && harness.DecodeAnswer(t, raw).Status == chain.StatusPurged {
		t.Fatalf("an event with the only CDN down was purged: %d %s", code, raw)
	}
	signIn(b, h, harness.TestAPIToken)
	b.waitFor("the console", `!document.getElementById('app').hidden`)
	if !b.bool(watchForLies) {
		t.Fatal("could not watch the page")
	}
	row := `#backend-table tr[data-check="varnish node ` + node + `"]`
	b.waitWithin(time.Minute, "the node failing", fmt.Sprintf(`document.querySelector(%q)?.dataset.state === 'failing'`, row))
	b.waitText("#ready-summary", "NOT PURGING: varnish node "+node)
	if !b.bool(`document.querySelector('#ready-summary [data-verdict="bad"]')`) {
		t.Errorf("the verdict is not red: %s", b.text("#ready-summary"))
	}
	if s := b.text(row + " td.last-success"); s != "never" {
		t.Errorf("the dead node's last success: %q, want never", s)
	}
	if s := b.text(row + " td.error-text"); s == "—" || s == "" {
		t.Error("the dead node's row shows no error")
	}
	if s := b.text(row + " td.breaker"); s != "—" {
		t.Errorf("Varnish's breaker: %q, want — (it has none)", s)
	}
	b.waitFor("the event in the recent purges", `document.querySelector('#purge-list details[data-id="msg_varnish_down"]') !== null`)
	t.Logf("the verdict: %s", b.text("#ready-summary"))
	t.Logf("the node's row: %s", b.text(row))
	t.Logf("the event: %s", b.text(`#purge-list details[data-id="msg_varnish_down"] > summary`))
	b.shot("19-varnish-down")
	if lies := eval[[]string](b, `window.__lies`); len(lies) > 0 {
		t.Errorf("the verdict was green above %v", lies)
	}
	b.noProblems()
}
