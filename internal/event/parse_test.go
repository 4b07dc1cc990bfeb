package event

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseHookProductExample(t *testing.T) {
	body := `{
  "type": "incident.updated",
  "page_id": "p0",
  "incident_id": "inc1",
  "component_ids": ["c1"],
  "occurred_at": "2026-11-26T18:00:00Z",
  "urls": ["https://p0.status.example.com/custom"],
  "tags": ["custom-tag"],
  "keys": ["statuspage:p0:custom"]
}`
	got, err := ParseHook("msg_2Lw", []byte(body))
	if err != nil {
		t.Fatalf("ParseHook: %v", err)
	}
	want := Event{
		ID:           "msg_2Lw",
		Source:       SourceHook,
		Type:         IncidentUpdated,
		PageID:       "p0",
		IncidentID:   "inc1",
		ComponentIDs: []string{"c1"},
		OccurredAt:   time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC),
		URLs:         []string{"https://p0.status.example.com/custom"},
		Tags:         []string{"custom-tag"},
		Keys:         []string{"statuspage:p0:custom"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseHook =\n%#v\nwant\n%#v", got, want)
	}
}

func TestParseHookOptionalFields(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Event
	}{
		{
			name: "only page_id: type defaults to page.updated",
			body: `{"page_id":"p0"}`,
			want: Event{ID: "m1", Source: SourceHook, Type: PageUpdated, PageID: "p0"},
		},
		{
			name: "nulls count as absent, unknown fields are accepted",
			body: `{"page_id":"p0","type":null,"incident_id":null,"urls":null,"occurred_at":null,
				"future_field":{"nested":[1,2,3]},"another":true}`,
			want: Event{ID: "m1", Source: SourceHook, Type: PageUpdated, PageID: "p0"},
		},
		{
			name: "occurred_at with offset and fraction is kept as the same instant in UTC",
			body: `{"type":"component.updated","page_id":"p0","occurred_at":"2026-11-26T12:00:00.250-06:00"}`,
			want: Event{ID: "m1", Source: SourceHook, Type: ComponentUpdated, PageID: "p0",
				OccurredAt: time.Date(2026, 11, 26, 18, 0, 0, 250_000_000, time.UTC)},
		},
		{
			name: "surrounding whitespace",
			body: "\n\t {\"page_id\":\"p0\",\"type\":\"maintenance.started\"} \r\n",
			want: Event{ID: "m1", Source: SourceHook, Type: MaintenanceStarted, PageID: "p0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHook("m1", []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseHook: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseHook =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseHookSyntaxErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantOffset int64
		wantMsg    string
	}{
		{name: "empty", body: "", wantOffset: 0, wantMsg: "malformed JSON at offset 0: empty body, want a JSON object"},
		{name: "whitespace only", body: "  \n", wantOffset: 3, wantMsg: "malformed JSON at offset 3: empty body, want a JSON object"},
		{name: "bad token", body: `{"page_id": "p0", x}`, wantOffset: 19,
			wantMsg: "malformed JSON at offset 19: invalid character 'x' at start of value"},
		{name: "truncated", body: `{"page_id": "p0"`, wantOffset: 16,
			wantMsg: "malformed JSON at offset 16: unexpected end of JSON input"},
		{name: "array", body: ` [{"page_id":"p0"}]`, wantOffset: 2,
			wantMsg: "malformed JSON at offset 2: the body must be a JSON object, not an array"},
		{name: "string", body: `"p0"`, wantOffset: 1,
			wantMsg: "malformed JSON at offset 1: the body must be a JSON object, not a string"},
		{name: "null", body: `null`, wantOffset: 1,
			wantMsg: "malformed JSON at offset 1: the body must be a JSON object"},
		{name: "trailing object", body: `{"page_id":"p0"} {"page_id":"p1"}`, wantOffset: 18,
			wantMsg: "malformed JSON at offset 18: unexpected data after the JSON object"},
		{name: "trailing garbage", body: `{"page_id":"p0"}x`, wantOffset: 17,
			wantMsg: "malformed JSON at offset 17: unexpected data after the JSON object"},
		{name: "duplicate key", body: `{"page_id":"p0","page_id":"p1"}`, wantOffset: 17,
			wantMsg: `malformed JSON at offset 17: duplicate key "page_id"`},
		{name: "duplicate key in another case", body: `{"page_id":"p0","type":"page.updated","PAGE_ID":"p1"}`, wantOffset: 39,
			wantMsg: `malformed JSON at offset 39: duplicate key "PAGE_ID"`},
		{name: "duplicate key spelled with an escape", body: `{"page_id":"p0","page\u005fid":"p1"}`, wantOffset: 17,
			wantMsg: `malformed JSON at offset 17: duplicate key "page_id"`},
		{name: "duplicate key with a fold-equivalent rune", body: `{"urls":[],"urlſ":[]}`, wantOffset: 12,
			wantMsg: `malformed JSON at offset 12: duplicate key "urlſ"`},
		{name: "duplicate key in a nested unknown object", body: `{"page_id":"p0","x":[{"a":1},{"a":1,"b":{"c":1,"c":2}}]}`, wantOffset: 48,
			wantMsg: `malformed JSON at offset 48: duplicate key "c"`},
		{name: "invalid UTF-8 in a value", body: "{\"page_id\":\"p\xff0\"}", wantOffset: 14,
			wantMsg: "malformed JSON at offset 14: invalid UTF-8 (byte 0xff)"},
		{name: "invalid UTF-8 in an unknown field", body: "{\"page_id\":\"p0\",\"x\":\"\xc3\"}", wantOffset: 22,
			wantMsg: "malformed JSON at offset 22: invalid UTF-8 (byte 0xc3)"},
		{name: "raw NUL in a string", body: "{\"page_id\":\"p\x000\"}", wantOffset: 14,
			wantMsg: `malformed JSON at offset 14: invalid character '\x00' in string (expecting non-control character)`},
		{name: "NUL outside strings", body: "{\"page_id\":\"p0\"\x00}", wantOffset: 16,
			wantMsg: `malformed JSON at offset 16: invalid character '\x00' after object value (expecting ',' or '}')`},
		{name: "number at top level", body: `42`, wantOffset: 1,
			wantMsg: "malformed JSON at offset 1: the body must be a JSON object, not a number"},
		{name: "boolean at top level", body: `true`, wantOffset: 1,
			wantMsg: "malformed JSON at offset 1: the body must be a JSON object, not a bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHook("m1", []byte(tt.body))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseHook error = %v (%T), want *SyntaxError", err, err)
			}
			if se.Offset != tt.wantOffset || err.Error() != tt.wantMsg {
				t.Fatalf("ParseHook error = %q at %d, want %q at %d", err, se.Offset, tt.wantMsg, tt.wantOffset)
			}
			if !IsMalformed(err) {
				t.Fatal("IsMalformed = false")
			}
		})
	}
}

func TestParseHookFieldErrors(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		body      string
		wantField string
		wantMsg   string
	}{
		{name: "missing page_id", body: `{"type":"incident.created"}`, wantField: "page_id",
			wantMsg: `field "page_id": required, must not be empty`},
		{name: "empty page_id", body: `{"page_id":""}`, wantField: "page_id"},
		{name: "page_id number", body: `{"page_id":17}`, wantField: "page_id",
			wantMsg: `field "page_id": must be a string, not a number`},
		{name: "component_ids not an array", body: `{"page_id":"p0","component_ids":"c1"}`, wantField: "component_ids",
			wantMsg: `field "component_ids": must be an array of strings, not a string`},
		{name: "component_ids element not a string", body: `{"page_id":"p0","component_ids":["c1",2]}`, wantField: "component_ids",
			wantMsg: `field "component_ids": must be a string, not a number`},
		{name: "bad component id", body: `{"page_id":"p0","component_ids":["c1","c/2"]}`, wantField: "component_ids[1]",
			wantMsg: `field "component_ids[1]": character '/' at byte 1 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{name: "unknown type", body: `{"page_id":"p0","type":"incident.deleted"}`, wantField: "type",
			wantMsg: `field "type": unknown type "incident.deleted"; want one of incident.created, incident.updated, ` +
				`incident.resolved, component.updated, maintenance.scheduled, maintenance.started, maintenance.completed, page.updated`},
		{name: "type wrong json type", body: `{"page_id":"p0","type":["incident.created"]}`, wantField: "type"},
		{name: "occurred_at not RFC 3339", body: `{"page_id":"p0","occurred_at":"26/11/2026 18:00"}`, wantField: "occurred_at",
			wantMsg: `field "occurred_at": must be an RFC 3339 timestamp such as 2026-11-26T18:00:00Z`},
		{name: "occurred_at as a number", body: `{"page_id":"p0","occurred_at":1790000000}`, wantField: "occurred_at"},
		{name: "relative url", body: `{"page_id":"p0","urls":["https://a.example/x","/history"]}`, wantField: "urls[1]",
			wantMsg: `field "urls[1]": must be an absolute http or https URL`},
		{name: "tag with comma", body: `{"page_id":"p0","tags":["a,b"]}`, wantField: "tags[0]"},
		{name: "key with newline", body: `{"page_id":"p0","keys":["ok","a\nb"]}`, wantField: "keys[1]"},
		{name: "incident_id traversal", body: `{"page_id":"p0","incident_id":"../etc"}`, wantField: "incident_id"},
		{name: "missing webhook-id", id: "-", body: `{"page_id":"p0"}`, wantField: "webhook-id"},
		{name: "bad webhook-id", id: "msg 1", body: `{"page_id":"p0"}`, wantField: "webhook-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id
			switch id {
			case "":
				id = "m1"
			case "-":
				id = ""
			}
			_, err := ParseHook(id, []byte(tt.body))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseHook error = %v (%T), want *FieldError", err, err)
			}
			if fe.Field != tt.wantField {
				t.Fatalf("field = %q (%v), want %q", fe.Field, err, tt.wantField)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Fatalf("error = %q, want %q", err, tt.wantMsg)
			}
			if !IsMalformed(err) {
				t.Fatal("IsMalformed = false")
			}
		})
	}
}

func TestParseHookDeepNestingInUnknownField(t *testing.T) {
	body := `{"page_id":"p0","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	got, err := ParseHook("m1", []byte(body))
	if err != nil {
		t.Fatalf("ParseHook: %v", err)
	}
	if got.PageID != "p0" {
		t.Fatalf("PageID = %q, want p0", got.PageID)
	}
	// Past the decoder's depth limit of 10000 it is a syntax error, not a crash.
	body = `{"page_id":"p0","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	if _, err := ParseHook("m1", []byte(body)); !IsMalformed(err) {
		t.Fatalf("ParseHook on 20000 levels = %v, want a malformed error", err)
	}
}

func TestIsMalformed(t *testing.T) {
	if IsMalformed(errors.New("redis down")) {
		t.Fatal("IsMalformed(plain error) = true")
	}
	if IsMalformed(nil) {
		t.Fatal("IsMalformed(nil) = true")
	}
	wrapped := errors.Join(errors.New("parse statuspage"), &FieldError{Field: "page.id", Reason: "required"})
	if !IsMalformed(wrapped) {
		t.Fatal("IsMalformed(wrapped FieldError) = false")
	}
}

// IsMalformed reports whether err says the sender's body is malformed (a
// *SyntaxError or a *FieldError anywhere in its chain): the HTTP layer
// answers those with 400 and the error's message.
func IsMalformed(err error) bool {
	var se *SyntaxError
	var fe *FieldError
	return errors.As(err, &se) || errors.As(err, &fe)
}
