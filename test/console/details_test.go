package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// brokenWords lists the plain words (letters, with their punctuation) of
// the page's visible text that a line break splits: a long token (a URL,
// an id) may wrap anywhere, a word never.
const brokenWords = `(() => {
	const out = [];
	const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		if (!n.parentElement.checkVisibility()) continue;
		for (const m of n.data.matchAll(/\S+/g)) {
			if (!/^[("]?[A-Za-z][a-z]+[)",.;:]*$/.test(m[0])) continue;
			const r = document.createRange();
			r.setStart(n, m.index);
			r.setEnd(n, m.index + m[0].length);
			const lines = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
			if (lines.size > 1) out.push(m[0] + ' in ' + (n.parentElement.closest('[id]') || {}).id);
		}
	}
	return out;
})()`

// TestConsoleDetails: what the console shows says what it is. A long plan
// says how many items it does not list and opens to them; the charts have
// a plain caption and labelled axes (count, time); times carry their date
// and zone; the chart and the list beside it count the same purges in the
// same window, a dry run as a dry run, never as purged; the form purges a
// Redis key, as the CLI's --key does; on a phone no word breaks mid-word.
func TestConsoleDetails(t *testing.T) {
	h := startConsole(t)
	b := newBrowser(t, 1280, 900)
	signIn(b, h, harness.TestAPIToken)
	b.waitFor("the console", `!document.getElementById('app').hidden`)

	occurred := time.Now().Add(-200 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	if code, raw := h.SendEvent("msg_details_1", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1","occurred_at":"`+occurred+`"}`)); code != http.StatusOK {
		t.Fatalf("event: %d %s", code, raw)
	}

	// A page's plan: more URLs than the list shows at first, and a cue.
	b.typeInto("#p-page", "p0")
	b.click("#p-preview")
	b.waitFor("the dry run's plan", `!document.getElementById('p-plan').hidden`)
	urls := `[...document.querySelectorAll('#p-plan-body strong')].find(s => s.textContent.startsWith('URLs ('))`
	total := eval[int](b, `parseInt(`+urls+`.textContent.slice(6))`)
	if total <= 8 {
		t.Fatalf("the page's plan has %d URLs; the test needs more than 8", total)
	}
	if n := eval[int](b, urls+`.nextElementSibling.children.length`); n != 8 {
		t.Errorf("the plan lists %d URLs at first, want 8", n)
	}
	more := urls + `.parentElement.querySelector('details.more')`
	if s := eval[string](b, more+`.querySelector('summary').textContent`); s != fmt.Sprintf("+%d more", total-8) {
		t.Errorf("the cue for the URLs not listed = %q, want %q", s, fmt.Sprintf("+%d more", total-8))
	}
	b.bool(more + `.querySelector('summary').click() || true`)
	if n := eval[int](b, `[...`+urls+`.parentElement.querySelectorAll('li')].filter(li => li.getClientRects().length).length`); n != total {
		t.Errorf("after the cue, %d of the %d URLs are visible", n, total)
	}
	b.click("#p-confirm")
	b.waitText("#p-result", "purged")

	// A Redis key by hand, as `edgepurge purge --key` does.
	key := redistest.Prefix(t) + "statuspage:p0:summary"
	rdb := redistest.Client(t)
	if err := rdb.Set(context.Background(), key, "cached", 0).Err(); err != nil {
		t.Fatal(err)
	}
	b.choose("#p-kind", "key")
	if !b.bool(`!document.getElementById('p-items').closest('.field').hidden`) || !strings.Contains(b.text("#p-items-label"), "Redis keys") {
		t.Fatalf("no field for Redis keys: %q", b.text("#p-items-label"))
	}
	b.typeInto("#p-items", key)
	b.click("#p-preview")
	b.waitFor("the key's dry run", `!document.getElementById('p-plan').hidden`)
	b.waitText("#p-plan-body", key)
	if n, _ := rdb.Exists(context.Background(), key).Result(); n != 1 {
		t.Fatal("the dry run deleted the key")
	}
	b.click("#p-confirm")
	b.waitText("#p-result", "purged")
	if s := b.text(`#p-result tr[data-backend="redis"]`); !strings.Contains(s, "ok") {
		t.Errorf("redis's result of the key purge: %q", s)
	}
	if n, _ := rdb.Exists(context.Background(), key).Result(); n != 0 {
		t.Error("the key purged by hand is still in Redis")
	}

	// The chart and the list count alike: an event and two purges by hand,
	// and the two dry runs as dry runs.
	want := "5 purges: 3 purged, 0 journaled, 0 failed (partial, failed or stale), 2 dry runs (nothing purged)"
	b.waitText("#rate-summary", want)
	b.waitText("#purges-summary", want)
	for _, sel := range []string{"#rate-summary", "#lag-summary"} {
		if s := b.text(sel); strings.Contains(s, "chart top") || !strings.Contains(s, "this instance") && !strings.Contains(s, "This instance") {
			t.Errorf("%s = %q: want no \"chart top\", and whose purges they are", sel, s)
		}
	}
	if s := b.text("#purges-summary"); !strings.Contains(s, "every instance") || !strings.Contains(s, "in the charts' window") {
		t.Errorf("the list's summary does not say what it counts: %q", s)
	}
	b.waitText("#rate-caption", "Purges of each 10 s, by how they ended")
	hhmm := regexp.MustCompile(`^\d\d:\d\d$`)
	for _, c := range []string{"#chart-rate", "#chart-lag"} {
		y := eval[[]string](b, `[...document.querySelectorAll('`+c+` .y-axis span')].map(s => s.textContent)`)
		x := eval[[]string](b, `[...document.querySelectorAll('`+c+` .x-axis span')].map(s => s.textContent)`)
		if len(y) != 3 || y[2] != "0" || y[0] == "" || y[1] == "" {
			t.Errorf("%s: y axis %q, want its top, its title and 0", c, y)
		}
		if len(x) != 3 || !hhmm.MatchString(x[0]) || x[1] != "time (UTC)" || !hhmm.MatchString(x[2]) {
			t.Errorf("%s: x axis %q, want the window's start, \"time (UTC)\" and its end", c, x)
		}
	}
	if y := b.text("#chart-rate .y-axis .axis-title"); y != "purges" {
		t.Errorf("the purges chart's y axis is titled %q", y)
	}
	if !b.bool(`document.querySelector('#chart-rate svg rect.dry_run') && document.querySelector('#chart-rate svg rect.ok')`) {
		t.Error("the purges chart does not draw the dry runs apart from the purged")
	}

	// Times have their date and zone.
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`)
	for _, s := range eval[[]string](b, `[...document.querySelectorAll('#purge-list summary time')].map(t => t.textContent)`) {
		if !stamp.MatchString(s) {
			t.Errorf("a purge's time %q has no date or zone (want YYYY-MM-DD hh:mm:ss UTC)", s)
		}
	}
	if s := b.text("#purges-summary"); !regexp.MustCompile(`updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`).MatchString(s) {
		t.Errorf("the list's summary: %q", s)
	}
	b.shot("12-details")

	// On a phone, with records open (one with a CDN's error in its
	// results), no word is broken.
	h.Stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	if code, raw := h.SendEvent("msg_details_2", []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc2"}`)); code != http.StatusAccepted {
		t.Fatalf("event during the CDN failure: %d %s", code, raw)
	}
	h.Stub.ClearFailure()
	b.waitFor("the failed event in the list", `document.querySelector('#purge-list details[data-id="msg_details_2"]') !== null`)
	b.click(`#purge-list details[data-id="msg_details_1"] > summary`)
	b.click(`#purge-list details[data-id="msg_details_2"] > summary`)
	b.waitText(`#purge-list details[data-id="msg_details_2"]`, "Internal server error")
	for _, w := range []int64{320, 390} {
		b.run("phone viewport", chromedp.EmulateViewport(w, 844, chromedp.EmulateScale(2)))
		time.Sleep(300 * time.Millisecond)
		if broken := eval[[]string](b, brokenWords); len(broken) > 0 {
			t.Errorf("at %d px, words broken across lines: %q", w, broken)
		}
		b.shot(fmt.Sprintf("13-phone-%d", w))
	}
	b.noProblems()
}
