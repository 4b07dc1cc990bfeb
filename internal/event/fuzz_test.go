package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
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
	`{"Page_ID":"p0","x":"\udc00"}`, `{"page_id":"p0","urls":[],"urlſ":[]}`,
	`[]`, `"p0"`, `42`, `null`, ``, `{`,
}

// FuzzParseHook: ParseHook never panics; whatever it accepts is a valid
// hook event carrying the given id, the event encoding/json reads in the
// body, and the same body with page_id repeated is refused; whatever it
// refuses is a 400 (malformed), with a short, printable message.
func FuzzParseHook(f *testing.F) {
	for _, s := range hookSeeds {
		f.Add("msg_1", []byte(s))
	}
	f.Add("", []byte(`{"page_id":"p0"}`))
	f.Add("msg 1", []byte(`{"page_id":"p0"}`))
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		ev, err := ParseHook(id, body)
		var h hookBody
		if json.Unmarshal(body, &h) == nil {
			want, wantErr := hookEvent(id, h)
			if ierr := ValidateID("webhook-id", id); ierr != nil {
				wantErr = ierr
			}
			sameAsEncodingJSON(t, body, ev, err, want, wantErr)
		} else if err == nil {
			t.Fatalf("accepted %q, which encoding/json refuses", body)
		}
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
		// An accepted body has page_id, in some case: another is a duplicate.
		dup := append([]byte(`{"PAGE_ID":"p0",`), bytes.TrimLeft(body, " \t\r\n")[1:]...)
		if _, err := ParseHook(id, dup); err == nil || !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("%q with page_id repeated: %v, want a duplicate key", body, err)
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
		var want ManualRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&want) == nil && dec.Decode(&struct{}{}) == io.EOF {
			sameAsEncodingJSON(t, body, r, err, want, nil)
		} else if err == nil {
			t.Fatalf("accepted %q, which encoding/json refuses", body)
		}
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

// sameAsEncodingJSON checks the result of a parser (got, err) for a body
// encoding/json decodes, whose result is (want, wantErr): the same, or a
// refusal of what encoding/json lets through (a repeated key, invalid
// UTF-8 or a lone surrogate, null for an object).
func sameAsEncodingJSON(t *testing.T, body []byte, got any, err error, want any, wantErr error) {
	t.Helper()
	var se *SyntaxError
	switch {
	case err == nil && wantErr != nil:
		t.Fatalf("accepted %q, encoding/json's reading of which is refused: %v", body, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: decoded %#v, encoding/json %#v", body, got, want)
	case err != nil && wantErr == nil && !(errors.As(err, &se) && overlooked(se.Msg)):
		t.Fatalf("refused %q, which encoding/json reads: %v", body, err)
	}
}

// overlooked reports whether msg refuses what encoding/json lets through.
func overlooked(msg string) bool {
	for _, p := range []string{"duplicate key", "invalid UTF-8", "invalid surrogate pair", "invalid escape sequence", "the body must be a JSON object"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// checkMessage: an error message is answered to the sender and logged, so
// it must be valid UTF-8, bounded, and on one line.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if !utf8.ValidString(msg) || len(msg) > 512 || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("bad error message (%d bytes): %q", len(msg), msg)
	}
}
