package event

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHookHostileFields(t *testing.T) {
	many := func(field, item string, n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `"` + item + `"`
		}
		return `{"page_id":"p0","` + field + `":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name, body, wantMsg string
	}{
		{"key with a template variable", `{"page_id":"p0","keys":["statuspage:{page_id}:summary"]}`,
			`field "keys[0]": {page_id} at byte 11 looks like an unexpanded template`},
		{"key with a space", `{"page_id":"p0","keys":["a b"]}`,
			`field "keys[0]": character ' ' at byte 1 is not allowed (a key must not contain whitespace or control characters)`},
		{"key with an escaped NUL", `{"page_id":"p0","keys":["a\u0000b"]}`,
			`field "keys[0]": character '\x00' at byte 1 is not allowed (a key must not contain whitespace or control characters)`},
		{"page_id with an escaped NUL", `{"page_id":"p\u0000"}`,
			`field "page_id": character '\x00' at byte 1 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{"url with a template", `{"page_id":"p0","urls":["https://{page_id}.example/"]}`,
			`field "urls[0]": character '{' at byte 8 is not allowed (braces look like an unexpanded template)`},
		{"too many tags", many("tags", "t", MaxListLen+1),
			`field "tags": 1001 entries, more than the limit of 1000`},
		{"long number in place of a string", `{"page_id":1` + strings.Repeat("0", 5000) + `}`,
			`field "page_id": must be a string, not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHook("m1", []byte(tt.body))
			var fe *FieldError
			if !errors.As(err, &fe) || err.Error() != tt.wantMsg {
				t.Fatalf("ParseHook error = %v, want %q", err, tt.wantMsg)
			}
		})
	}
	if _, err := ParseHook("m1", []byte(many("tags", "t", MaxListLen))); err != nil {
		t.Fatalf("exactly %d tags: %v", MaxListLen, err)
	}
	if _, err := ParseHook("m1", []byte(`{"page_id":"p0","keys":["statuspage:{p0}:summary"]}`)); err != nil {
		t.Fatalf("a Redis Cluster hash tag in a key: %v", err)
	}
}

func TestParseManual(t *testing.T) {
	r, err := ParseManual([]byte(`{"page_id":"p0","urls":["https://a.example/"],"dry_run":true}`))
	if err != nil || r.PageID != "p0" || len(r.URLs) != 1 || !r.DryRun {
		t.Fatalf("ParseManual = %+v, %v", r, err)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"page_id":"p0","url":"https://a.example/"}`, `field "url": unknown field`},
		{`{"page_id":"p0","page_id":"p1"}`, `malformed JSON at offset 17: duplicate key "page_id"`},
		{`{"page_id":`, `malformed JSON at offset 11: unexpected end of JSON input`},
		{`[]`, `malformed JSON at offset 1: the body must be a JSON object, not an array`},
		{`{"everything":"yes"}`, `field "everything": must be a boolean, not a string`},
	} {
		if _, err := ParseManual([]byte(tt.body)); err == nil || err.Error() != tt.want || !IsMalformed(err) {
			t.Errorf("ParseManual(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
}
