package console_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// TestConsolePageView: the search box of the recent purges shows the page
// it names (its hostnames, where they come from, the plan an incident
// update would make and its changes), the pages of a hostname, and an
// entry planning refuses with its problem — the API's text as text.
func TestConsolePageView(t *testing.T) {
	h := startConsole(t)
	body := `{"hosts":["status.customer.test","cust.status.example.com"],"tags":["page:{page_id}"]}`
	req, _ := http.NewRequest(http.MethodPut, h.Base+"/v1/pages/cust", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+harness.TestAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /v1/pages/cust: %v %v", resp, err)
	}
	resp.Body.Close()
	// An entry the core app wrote straight into Redis, with a bad host
	// carrying markup.
	redistest.Client(t).HSet(context.Background(), h.Prefix+"page:broken", "hosts", "ok.example.com,<img src=x onerror=alert(1)>")

	b := newBrowser(t, 1280, 900)
	signIn(b, h, harness.TestAPIToken)
	b.waitFor("the console", `!document.getElementById('app').hidden`)

	b.typeInto("#f-page", "cust")
	view := `#page-view [data-page="cust"]`
	b.waitFor("the page view of cust", `document.querySelector('`+view+`') !== null`)
	text := b.text(view)
	for _, want := range []string{"status.customer.test", "cust.status.example.com", "the page registry", "the default zone",
		"An incident update purges 22 URLs, 1 tag", "https://status.customer.test/incidents/{incident_id}",
		"https://cust.status.example.com/api/v2/summary.json", "created", "api_token", `{"tags":["page:{page_id}"]}`, "page:cust"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page view lacks %q: %s", want, text)
		}
	}
	b.shot("pages-01-registry-page")

	// A page of the config file.
	b.typeInto("#f-page", harness.TestPage)
	b.waitFor("the page view of p0", `document.querySelector('#page-view [data-page="p0"]') !== null`)
	if s := b.text("#page-view"); !strings.Contains(s, "the config file (pages.p0)") || !strings.Contains(s, harness.TestHostB) || !strings.Contains(s, "page:p0") {
		t.Errorf("the view of p0: %s", s)
	}

	// A hostname: the pages that have it.
	b.typeInto("#f-page", "status.customer.test")
	b.waitFor("the pages of the hostname", `document.querySelector('#page-view [data-host="status.customer.test"]') !== null`)
	if s := b.text("#page-view"); !strings.Contains(s, "cust") || !strings.Contains(s, "registry") {
		t.Errorf("the pages of status.customer.test: %s", s)
	}
	b.shot("pages-02-by-host")

	// The broken entry: its problem, as text; nothing of it runs.
	b.typeInto("#f-page", "broken")
	b.waitFor("the page view of broken", `document.querySelector('#page-view [data-page="broken"]') !== null`)
	if s := b.text("#page-view"); !strings.Contains(s, "refused until the entry is fixed") || !strings.Contains(s, "<img src=x onerror=alert(1)>") {
		t.Errorf("the view of the broken entry: %s", s)
	}
	if b.bool(`document.querySelector('#page-view img') !== null`) {
		t.Error("the entry's markup became an element")
	}
	b.shot("pages-03-broken")

	// Nothing: said so; and an empty box hides the view.
	b.typeInto("#f-page", "nowhere")
	b.waitText("#page-view", `No page "nowhere"`)
	b.typeInto("#f-page", "")
	b.waitFor("the view hidden", `document.getElementById('page-view').hidden`)
	b.noProblems()
}
