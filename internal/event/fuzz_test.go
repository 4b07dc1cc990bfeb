package event

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hookSeeds are the core app's real payload shapes and near misses.
var hookSeeds = []string{
	`{"type":"incident.updated","page_id":"p0","incident_id":"inc1","component_ids":["c1"],"occurred_at":"2026-11-26T18:00:00Z","urls":["https://p0.status.example.com/custom"],"tags":["custom-tag"],"keys":["statuspage:p0:custom"]}`,
	`{"type":"component.updated","page_id":"p0","component_ids":["c1","c2"]}`,
	`{"type":"maintenance.started","page_id":"p0","incident_id":"m1","occurred_at":"2026-11-26T18:00:00.123+02:00"}`,
	`{"page_id":"p0"}`,
	`{"page_id":"p0","page_id":"p1"}`,
	`{"page_id":"p0","PAGE_ID":"p1"}`,
	`{"page_id":"../x","keys":["{page_id}"]}`,
	`{"page_id":"p0","urls":["https://u:p@h.example/"]}`,
	`{"page_id":"p0","x":[[[[{"a":{"b":null}}]]]]}`,
	"{\"page_id\":\"p\xff\"}",
	`[]`, `"p0"`, `42`, `null`, ``, `{`,
}

// FuzzParseHook: ParseHook never panics; whatever it accepts is a valid
// hook event carrying the given id; whatever it refuses is a 400 (malformed),
// with a short, printable message.
func FuzzParseHook(f *testing.F) {
	for _, s := range hookSeeds {
		f.Add("msg_1", []byte(s))
	}
	f.Add("", []byte(`{"page_id":"p0"}`))
	f.Add("msg 1", []byte(`{"page_id":"p0"}`))
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		ev, err := ParseHook(id, body)
		if err != nil {
			if !IsMalformed(err) {
				t.Fatalf("error is not malformed (would be a 500): %v", err)
			}
			checkMessage(t, err.Error())
			return
		}
		if verr := ev.Validate(); verr != nil {
			t.Fatalf("accepted event does not validate: %v (%+v)", verr, ev)
		}
		if ev.ID != id || ev.Source != SourceHook || !ev.Type.Valid() || ev.PageID == "" {
			t.Fatalf("accepted event = %+v", ev)
		}
		for _, s := range append([]string{ev.PageID, ev.IncidentID}, ev.ComponentIDs...) {
			if strings.ContainsAny(s, "{}/\\") || strings.Contains(s, "..") {
				t.Fatalf("accepted id with a brace, a slash or '..': %q", s)
			}
		}
		for _, s := range append(ev.URLs, ev.Tags...) {
			if strings.ContainsAny(s, "{} ") {
				t.Fatalf("accepted URL or tag with a brace or a space: %q", s)
			}
		}
	})
}

// FuzzParseManual: the manual purge's decoder never panics and refuses only
// with a malformed error.
func FuzzParseManual(f *testing.F) {
	for _, s := range append(hookSeeds, `{"page_id":"p0","everything":true,"dry_run":true}`, `{"prefixes":["a.example/x/"],"hosts":["a.example"]}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseManual(body)
		if err != nil {
			if !IsMalformed(err) {
				t.Fatalf("error is not malformed: %v", err)
			}
			checkMessage(t, err.Error())
			return
		}
		ev, err := r.Event("man_1")
		if err != nil {
			if !IsMalformed(err) {
				t.Fatalf("error is not malformed: %v", err)
			}
			checkMessage(t, err.Error())
			return
		}
		if verr := ev.Validate(); verr != nil {
			t.Fatalf("accepted event does not validate: %v", verr)
		}
	})
}

// checkMessage: an error message is answered to the sender and logged, so
// it must be valid UTF-8, bounded, and on one line.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if !utf8.ValidString(msg) || len(msg) > 512 || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("bad error message (%d bytes): %q", len(msg), msg)
	}
}
