package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/journal"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// consoleConfig keeps the background re-driver out of the way (its first
// look is at start, the next one ten minutes later), so an entry the test
// journals waits for the console's "replay now", and fails a CDN call
// within a second.
func consoleConfig(cfg *config.Config) {
	cfg.Journal.Poll = 10 * time.Minute
	cfg.Journal.ClaimIdle = 30 * time.Minute
	cfg.Journal.MaxAge = 2 * time.Hour
	cfg.Server.PurgeTimeout = time.Second
}

// startConsole runs edgepurge with consoleConfig (then edits), its audit
// trail under the test's own prefix (the shared Redis holds other tests'
// records), and waits until it is ready.
func startConsole(t *testing.T, edits ...func(cfg *config.Config)) *harness.H {
	t.Helper()
	prefix := redistest.Prefix(t)
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		consoleConfig(cfg)
		cfg.Audit.Stream = prefix + "audit"
		for _, edit := range edits {
			edit(cfg)
		}
	})
	h.WaitReady()
	return h
}

// signIn opens the console and signs in with token.
func signIn(b *browser, h *harness.H, token string) {
	b.t.Helper()
	b.run("open the console", chromedp.Navigate(h.Base+"/console"), chromedp.WaitVisible(chromedp.ID("token")))
	b.typeInto("#token", token)
	b.click("#signin-form button[type=submit]")
}

// TestConsoleInABrowser walks the on-call console as a person would:
// sign in (a wrong token first), readiness, an event appearing live and its
// plan, the filters, the charts, a purge by hand after its dry run, a
// journaled entry after a CDN failure replayed now, a dead letter replayed,
// a phone-sized screen, sign-out — without a single console message.
func TestConsoleInABrowser(t *testing.T) {
	// As deployed: the probes prove the zone from the start.
	h := startConsole(t, func(cfg *config.Config) { cfg.Probe.Disabled = false })
	b := newBrowser(t, 1280, 900)

	// The API refuses without the token, and the page holds no data.
	for _, p := range []string{"/v1/journal", "/v1/journal/dead", "/v1/stats", "/v1/purges"} {
		if code, _ := h.API("GET", p, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token = %d, want 401", p, code)
		}
	}
	b.run("open the console", chromedp.Navigate(h.Base+"/console"), chromedp.WaitVisible(chromedp.ID("token")))
	if !b.bool(`document.getElementById('app').hidden`) || b.text("#purge-list") != "" {
		t.Fatal("the console shows its data before sign-in")
	}
	b.shot("01-sign-in")

	// A wrong token: a clear error, nothing kept.
	b.typeInto("#token", "not-the-token")
	b.click("#signin-form button[type=submit]")
	b.waitText("#signin-error", "refused (HTTP 401)")
	if !b.bool(`document.getElementById('app').hidden && sessionStorage.length === 0`) {
		t.Error("after a wrong token the console is shown or keeps the token")
	}
	b.shot("02-wrong-token")

	// The right one: readiness with every check and its last success, and
	// the version.
	b.typeInto("#token", harness.TestAPIToken)
	b.click("#signin-form button[type=submit]")
	b.waitFor("the console", `!document.getElementById('app').hidden`)
	b.waitFor("the green verdict", `document.querySelector('#ready-summary [data-verdict="ok"]') !== null`)
	b.waitText("#ready-summary", "ready")
	for _, check := range []string{"config", "redis", "cloudflare zone " + harness.TestZone} {
		row := fmt.Sprintf(`#checks tr[data-check=%q]`, check)
		b.waitText(row, "ok")
		if s := b.text(row + " td:nth-of-type(3)"); !strings.Contains(s, "ago") {
			t.Errorf("check %s: last success %q, want an age", check, s)
		}
	}
	b.waitText("#version", "version test")
	if !b.bool(`sessionStorage.getItem('edgepurge.console.token') === ` + fmt.Sprintf("%q", harness.TestAPIToken)) {
		t.Error("the token is not in sessionStorage")
	}
	if b.bool(`localStorage.length > 0 || document.cookie !== ''`) {
		t.Error("the console keeps something in localStorage or a cookie")
	}
	b.shot("03-signed-in")

	// An event appears by itself (polling), newest first, and opens to its
	// plan and per-backend results.
	occurred := time.Now().Add(-300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	if code, raw := h.SendEvent("msg_console_1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1","occurred_at":"`+occurred+`"}`)); code != http.StatusOK {
		t.Fatalf("event: %d %s", code, raw)
	}
	item := `#purge-list details[data-id="msg_console_1"]`
	b.waitFor("the event in the recent purges", `document.querySelector('`+item+`') !== null`)
	b.click(item + " > summary")
	b.waitFor("the plan", `document.querySelector('`+item+`').open`)
	plan := b.text(item + " .plan")
	for _, want := range []string{"22 URLs", "1 tag,", "page", "p0", "cloudflare", "redis", "HTTP status200"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan of msg_console_1 does not show %q: %s", want, plan)
		}
	}
	if s := b.text(item + ` tr[data-backend="cloudflare"]`); !strings.Contains(s, "ok") || !strings.Contains(s, "23") { // 22 URLs and a tag
		t.Errorf("cloudflare's result: %q", s)
	}
	b.shot("04-event-plan")

	// The filters: page, status, source.
	b.typeInto("#f-page", "nope")
	b.waitText("#purge-list", "No purges match.")
	b.typeInto("#f-page", "p0")
	b.choose("#f-status", "purged")
	b.choose("#f-source", "hook")
	b.waitFor("the filtered event", `document.querySelector('`+item+`') !== null`)
	// The expanded record stays open across the polls.
	if !b.bool(`document.querySelector('` + item + `').open`) {
		t.Error("the record closed when the list was refreshed")
	}
	b.choose("#f-source", "manual")
	b.waitText("#purge-list", "No purges match.")
	b.choose("#f-source", "")
	b.choose("#f-status", "")
	b.typeInto("#f-page", "")

	// The charts, from the process's own history.
	b.waitText("#rate-summary", "1 purged")
	b.waitText("#lag-summary", "p99")
	if !b.bool(`document.querySelector('#chart-rate svg rect.ok') && document.querySelector('#chart-lag svg path.lag, #chart-lag svg rect.lagdot')`) {
		t.Error("the charts draw nothing")
	}

	// A purge by hand: the dry run's plan first, nothing purged, then the
	// purge on confirmation.
	beforeDry := time.Now()
	b.typeInto("#p-page", "p0")
	b.click("#p-preview")
	b.waitFor("the dry run's plan", `!document.getElementById('p-plan').hidden`)
	dry := b.text("#p-plan-body")
	for _, want := range []string{"dry_run", "https://p0.status.example.com/", "https://status.acme.test/history.rss", "page:p0", "nothing was purged yet"} {
		if !strings.Contains(dry, want) {
			t.Errorf("the dry run does not show %q: %s", want, dry)
		}
	}
	if at, ok := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["page:p0"]; ok && at.After(beforeDry) {
		t.Error("the dry run purged")
	}
	b.shot("05-dry-run")
	b.click("#p-confirm")
	b.waitText("#p-result", "purged")
	if at, ok := h.Stub.Purged(harness.TestZone, cfstub.KindTags)["page:p0"]; !ok || at.Before(beforeDry) {
		t.Errorf("the confirmed purge did not reach the CDN: %v %v", at, ok)
	}
	b.waitText("#notice", "purged")
	b.waitFor("the manual purge in the list", `[...document.querySelectorAll('#purge-list details')].some(d => d.textContent.includes('manual'))`)
	b.shot("06-purged-by-hand")

	// A CDN failure: the event is journaled, the console shows the entry
	// with its error; the CDN recovers and "replay now" purges it.
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	code, raw := h.SendEvent("msg_console_2", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc2"}`))
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusAccepted || a.Status != chain.StatusJournaled || a.JournalID == "" {
		t.Fatalf("event during the CDN failure: %d %s", code, raw)
	}
	entry := fmt.Sprintf(`#journal-list details[data-id=%q]`, a.JournalID)
	b.waitFor("the journaled entry", `document.querySelector('`+entry+`') !== null`)
	b.waitText("#journal-summary", "1 entry to re-drive")
	b.click(entry + " > summary")
	if s := b.text(entry); !strings.Contains(s, "msg_console_2") || !strings.Contains(s, "HTTP 500") || !strings.Contains(s, "https://p0.status.example.com/incidents/inc2") {
		t.Errorf("the journal entry does not show its event, error and URLs: %s", s)
	}
	b.waitText("#purge-list", "journaled")
	b.shot("07-journaled")
	h.Stub.ClearFailure()
	replayedAfter := time.Now()
	li := fmt.Sprintf(`#journal-list li:has(details[data-id=%q])`, a.JournalID)
	b.click(li + ` button[data-action="replay"]`)
	confirm := fmt.Sprintf(`button[data-confirm="journal|%s"]`, a.JournalID)
	b.waitFor("the replay's confirmation", `document.querySelector('`+confirm+`') !== null`)
	if code, body := h.API("GET", "/v1/journal", harness.TestAPIToken); !strings.Contains(body, `"total":1`) {
		t.Fatalf("the replay ran before its confirmation: %d %s", code, body)
	}
	b.click(confirm)
	b.waitText("#notice", "Replayed "+a.JournalID+": purged.")
	b.waitText("#journal-list", "Nothing to re-drive.")
	if at, ok := h.Stub.Purged(harness.TestZone, cfstub.KindFiles)["https://p0.status.example.com/incidents/inc2"]; !ok || at.Before(replayedAfter) {
		t.Errorf("the replay did not purge the entry's URLs: %v %v", at, ok)
	}
	b.waitFor("the re-drive in the recent purges", `[...document.querySelectorAll('#purge-list details')].some(d => d.textContent.includes('redrive'))`)
	b.shot("08-replayed")

	// The replay endpoints: 401 without the token, 404 for an unknown entry.
	if code, _ := h.API("POST", "/v1/journal/"+a.JournalID+"/replay", ""); code != http.StatusUnauthorized {
		t.Errorf("replay without a token = %d, want 401", code)
	}
	if code, body := h.API("POST", "/v1/journal/"+a.JournalID+"/replay", harness.TestAPIToken); code != http.StatusNotFound {
		t.Errorf("replay of a purged entry = %d %s, want 404", code, body)
	}
	if code, _ := h.API("POST", "/v1/journal/dead/replay", ""); code != http.StatusUnauthorized {
		t.Errorf("dead-letter replay without a token = %d, want 401", code)
	}

	// A dead letter (an entry that failed past journal.max_age), replayed
	// with the others after a confirmation.
	j := journal.New(redistest.Client(t), journal.Config{
		Stream: h.Cfg.Journal.Stream, Group: h.Cfg.Journal.Group, DeadStream: h.Cfg.Journal.DeadStream,
		MaxEntries: h.Cfg.Journal.MaxEntries, MaxDead: h.Cfg.Journal.MaxDead,
	})
	deadURL := "https://p0.status.example.com/incidents/inc-dead"
	if err := j.Bury(context.Background(), journal.Entry{
		ID: "1-1", EventID: "msg_console_dead", Source: "hook", Page: harness.TestPage, Zone: harness.TestZone,
		Backends: []string{"cloudflare"}, URLs: []string{deadURL}, Tags: []string{}, FirstFailure: time.Now().Add(-2 * time.Hour),
		Attempts: 9, Error: "cloudflare: HTTP 500",
	}, "still failing after journal.max_age (1h0m0s)", time.Now()); err != nil {
		t.Fatal(err)
	}
	b.waitText("#dead-summary", "1 dead letter")
	b.waitText("#dead-summary", "oldest first failed 2 h")
	b.waitText("#dead-list", "msg_console_dead")
	b.click(`#dead-actions button[data-action="replay"]`)
	b.waitFor("the dead letters' confirmation", `document.querySelector('button[data-confirm="dead|all"]') !== null`)
	b.shot("09-dead-letter")
	b.click(`button[data-confirm="dead|all"]`)
	b.waitText("#notice", "Replayed 1 dead letter: 1 purged, 0 still failing.")
	b.waitText("#dead-summary", "0 dead letters")
	if _, ok := h.Stub.Purged(harness.TestZone, cfstub.KindFiles)[deadURL]; !ok {
		t.Error("the dead letter's URL was not purged")
	}

	// Every field has a label, every button a name.
	unlabelled := eval[[]string](b, `[...document.querySelectorAll('input, select, textarea')].filter(e => !e.labels || !e.labels.length).map(e => e.id)
		.concat([...document.querySelectorAll('button')].filter(e => !e.textContent.trim()).map(e => 'button ' + e.id))`)
	if len(unlabelled) > 0 {
		t.Errorf("without a label or name: %v", unlabelled)
	}

	// A phone: nothing wider than the screen.
	b.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	b.waitText("#dead-summary", "0 dead letters")
	overflow := eval[[]string](b, `(() => { const w = document.documentElement.clientWidth; const out = [];
		if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth + ' > ' + w);
		for (const e of document.querySelectorAll('main section, main form, main button, main input, main select')) {
			const r = e.getBoundingClientRect(); if (r.width && r.right > w + 1) out.push((e.id || e.tagName) + ' ends at ' + Math.round(r.right));
		}
		return out; })()`)
	if len(overflow) > 0 {
		t.Errorf("on a 390 px screen: %v", overflow)
	}
	b.shot("10-phone")
	b.run("desktop viewport", chromedp.EmulateViewport(1280, 900))

	// Signing out forgets the token and the data.
	b.click("#signout")
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden && document.getElementById('app').hidden`)
	if !b.bool(`sessionStorage.length === 0 && document.querySelectorAll('#purge-list li, #journal-list li, #checks tbody tr').length === 0`) {
		t.Error("sign-out left the token or data in the page")
	}
	b.noProblems()
}

// TestConsoleRendersEventContentAsText: an event whose tags and URLs, and a
// CDN whose error message, carry HTML (script tags, an image with an
// onerror) are shown as that text: nothing is parsed, nothing runs.
func TestConsoleRendersEventContentAsText(t *testing.T) {
	h := startConsole(t)
	b := newBrowser(t, 1280, 900)

	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: `<img src=x onerror="window.__pwned='cdn'">`})
	tags := []string{`<script>window.__pwned='tag'</script>`, `<img/src=x/onerror=window.__pwned='img'>`}
	url := `https://p0.status.example.com/<script>window.__pwned='url'</script>`
	body, _ := json.Marshal(map[string]any{"type": "incident.updated", "page_id": "p0", "incident_id": "inc1", "tags": tags, "urls": []string{url}})
	code, raw := h.SendEvent("msg_console_xss", body)
	a := harness.DecodeAnswer(t, raw)
	if code != http.StatusAccepted || a.JournalID == "" {
		t.Fatalf("hostile event: %d %s", code, raw)
	}

	signIn(b, h, harness.TestAPIToken)
	entry := fmt.Sprintf(`#journal-list details[data-id=%q]`, a.JournalID)
	b.waitFor("the hostile entry", `document.querySelector('`+entry+`') !== null`)
	b.click(entry + " > summary")
	text := b.text(entry)
	for _, want := range append(tags, url, `onerror="window.__pwned='cdn'"`) {
		if !strings.Contains(text, want) {
			t.Errorf("the entry does not show %q as text: %s", want, text)
		}
	}
	b.waitFor("the audit record", `document.querySelector('#purge-list details[data-id="msg_console_xss"]') !== null`)
	b.click(`#purge-list details[data-id="msg_console_xss"] > summary`)
	b.waitText(`#purge-list details[data-id="msg_console_xss"]`, `<img src=x onerror=`)

	// The same through the manual purge's dry run.
	b.choose("#p-kind", "tag")
	b.typeInto("#p-items", tags[0])
	b.click("#p-preview")
	b.waitFor("the dry run", `!document.getElementById('p-plan').hidden`)
	b.waitText("#p-plan-body", tags[0])
	b.shot("11-hostile-content")

	if n := b.text("body"); !strings.Contains(n, "window.__pwned") {
		t.Error("the hostile text is not on the page at all")
	}
	injected := eval[int](b, `document.querySelectorAll('main script, main img, body > script:not([src])').length`)
	if injected != 0 {
		t.Errorf("%d script or img elements were created from data", injected)
	}
	time.Sleep(300 * time.Millisecond) // an image's onerror would have fired by now
	if b.bool(`window.__pwned !== undefined`) {
		t.Errorf("hostile content ran: window.__pwned = %q", eval[string](b, `String(window.__pwned)`))
	}
	b.noProblems()
}
