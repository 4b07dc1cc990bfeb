package event

import (
	"errors"
	"strings"
	"testing"
)

type validateCase struct {
	value   string
	wantErr string // "" means valid; otherwise the exact error message
}

func runValidate(t *testing.T, name string, fn func(field, s string) error, cases []validateCase) {
	t.Helper()
	for _, c := range cases {
		err := fn("f[3]", c.value)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s(%q) = %v, want nil", name, c.value, err)
		case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
			t.Errorf("%s(%q) = %v, want %q", name, c.value, err, c.wantErr)
		case err != nil:
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "f[3]" {
				t.Errorf("%s(%q) error %#v is not a *FieldError for f[3]", name, c.value, err)
			}
		}
	}
}

func TestValidateID(t *testing.T) {
	runValidate(t, "ValidateID", ValidateID, []validateCase{
		{value: "p0"},
		{value: "p7xk3m9q2w1z"},
		{value: "msg_p5jXN8AQM9LWM0D4loKWxJek"},
		{value: "a.b:c-d_e"},
		{value: "..."[:1] + "x"},
		{value: strings.Repeat("a", 128)},
		{value: "", wantErr: `field "f[3]": required, must not be empty`},
		{value: strings.Repeat("a", 129), wantErr: `field "f[3]": longer than 128 bytes`},
		{value: ".", wantErr: `field "f[3]": must not be "."`},
		{value: "..", wantErr: `field "f[3]": must not contain ".."`},
		{value: "a..b", wantErr: `field "f[3]": must not contain ".."`},
		{value: "a/b", wantErr: `field "f[3]": character '/' at byte 1 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{value: "a b", wantErr: `field "f[3]": character ' ' at byte 1 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{value: "{p}", wantErr: `field "f[3]": character '{' at byte 0 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{value: "é", wantErr: `field "f[3]": character 'é' at byte 0 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
		{value: "a\x00", wantErr: `field "f[3]": character '\x00' at byte 1 is not allowed (allowed: A-Z a-z 0-9 _ . : -)`},
	})
}

func TestValidateURL(t *testing.T) {
	runValidate(t, "ValidateURL", ValidateURL, []validateCase{
		{value: "https://p0.status.example.com/"},
		{value: "http://p0.status.example.com:8080/api/v2/summary.json?x=1"},
		{value: "HTTPS://P0.status.example.com/a%20b"},
		{value: "https://[::1]/x"},
		{value: "https://a.example/" + strings.Repeat("x", MaxURLLen-len("https://a.example/"))},
		{value: "", wantErr: `field "f[3]": required, must not be empty`},
		{value: "https://a.example/" + strings.Repeat("x", MaxURLLen), wantErr: `field "f[3]": longer than 2048 bytes`},
		{value: "/history", wantErr: `field "f[3]": must be an absolute http or https URL`},
		{value: "ftp://a.example/x", wantErr: `field "f[3]": must be an absolute http or https URL`},
		{value: "p0.status.example.com/x", wantErr: `field "f[3]": must be an absolute http or https URL`},
		{value: "https:///x", wantErr: `field "f[3]": must have a host`},
		{value: "https:a.example", wantErr: `field "f[3]": must have a host`},
		{value: "https://:443/x", wantErr: `field "f[3]": must have a host`},
		{value: "https://user:pw@a.example/", wantErr: `field "f[3]": must not contain a user or password`},
		{value: "https://a.example/#top", wantErr: `field "f[3]": must not have a fragment (#...), which is never part of a cached URL`},
		{value: "https://a.example/a b", wantErr: `field "f[3]": character ' ' at byte 19 is not allowed (a URL must be printable ASCII; percent-encode the rest)`},
		{value: "https://a.example/\r\nX: y", wantErr: `field "f[3]": character '\r' at byte 18 is not allowed (a URL must be printable ASCII; percent-encode the rest)`},
		{value: "https://a.example/é", wantErr: `field "f[3]": character 'é' at byte 18 is not allowed (a URL must be printable ASCII; percent-encode the rest)`},
		{value: "https://{page_id}.example/", wantErr: `field "f[3]": character '{' at byte 8 is not allowed (braces look like an unexpanded template)`},
		{value: "https://a.example/%zz", wantErr: `field "f[3]": not a valid URL`},
	})
}

func TestValidateTag(t *testing.T) {
	runValidate(t, "ValidateTag", ValidateTag, []validateCase{
		{value: "page:p0"},
		{value: "custom-tag"},
		{value: "!#$%&'()*+-./:;<=>?@[\\]^_`|~"},
		{value: strings.Repeat("t", 1024)},
		{value: "", wantErr: `field "f[3]": required, must not be empty`},
		{value: strings.Repeat("t", 1025), wantErr: `field "f[3]": longer than 1024 bytes`},
		{value: "a b", wantErr: `field "f[3]": character ' ' at byte 1 is not allowed (a tag must be printable ASCII without spaces)`},
		{value: "a,b", wantErr: `field "f[3]": character ',' at byte 1 is not allowed (commas separate tags)`},
		{value: "page:{page_id}", wantErr: `field "f[3]": character '{' at byte 5 is not allowed (braces look like an unexpanded template)`},
		{value: "tag\t", wantErr: `field "f[3]": character '\t' at byte 3 is not allowed (a tag must be printable ASCII without spaces)`},
		{value: "tägg", wantErr: `field "f[3]": character 'ä' at byte 1 is not allowed (a tag must be printable ASCII without spaces)`},
	})
}

func TestValidateKey(t *testing.T) {
	runValidate(t, "ValidateKey", ValidateKey, []validateCase{
		{value: "statuspage:p0:summary"},
		{value: "statuspage:{p0}:summary"},
		{value: "cache/ü/*"},
		{value: strings.Repeat("k", 512)},
		{value: "", wantErr: `field "f[3]": required, must not be empty`},
		{value: strings.Repeat("k", 513), wantErr: `field "f[3]": longer than 512 bytes`},
		{value: "a b", wantErr: `field "f[3]": character ' ' at byte 1 is not allowed (a key must not contain whitespace or control characters)`},
		{value: "a\x7f", wantErr: `field "f[3]": character '\x7f' at byte 1 is not allowed (a key must not contain whitespace or control characters)`},
		{value: "a\u00a0b", wantErr: `field "f[3]": character '\u00a0' at byte 1 is not allowed (a key must not contain whitespace or control characters)`},
		{value: "a\xffb", wantErr: `field "f[3]": invalid UTF-8 at byte 1`},
	})
}

func TestValidateHost(t *testing.T) {
	runValidate(t, "ValidateHost", ValidateHost, []validateCase{
		{value: "p0.status.example.com"},
		{value: "xn--bcher-kva.example"},
		{value: "localhost"},
		{value: "", wantErr: `field "f[3]": required, must not be empty`},
		{value: "a.example:443", wantErr: `field "f[3]": character ':' at byte 9 is not allowed (a host is letters, digits, '-', '_' and dots, without scheme, port or path)`},
		{value: "a.example/x", wantErr: `field "f[3]": character '/' at byte 9 is not allowed (a host is letters, digits, '-', '_' and dots, without scheme, port or path)`},
		{value: "a..example", wantErr: `field "f[3]": empty label in host`},
		{value: "-a.example", wantErr: `field "f[3]": host label starts or ends with '-'`},
		{value: strings.Repeat("a", 64) + ".example", wantErr: `field "f[3]": host label longer than 63 bytes`},
	})
}

func TestValidatePrefix(t *testing.T) {
	runValidate(t, "ValidatePrefix", ValidatePrefix, []validateCase{
		{value: "p0.status.example.com/api/v2/"},
		{value: "p0.status.example.com"},
		{value: "https://p0.status.example.com/api", wantErr: `field "f[3]": a prefix has no scheme: host/path`},
		{value: "p0.status.example.com/api?x", wantErr: `field "f[3]": character '?' at byte 25 is not allowed (a prefix has no query, fragment or wildcard)`},
		{value: "p0.status.example.com/api*", wantErr: `field "f[3]": character '*' at byte 25 is not allowed (a prefix has no query, fragment or wildcard)`},
		{value: "/api", wantErr: `field "f[3]": required, must not be empty`},
	})
}

func TestEventValidate(t *testing.T) {
	valid := Event{ID: "m1", Source: SourceHook, Type: IncidentCreated, PageID: "p0"}
	tests := []struct {
		name      string
		edit      func(e *Event)
		wantField string // "" means valid
	}{
		{name: "valid", edit: func(e *Event) {}},
		{name: "manual without page or type", edit: func(e *Event) {
			*e = Event{Source: SourceManual, Hosts: []string{"a.example"}, Prefixes: []string{"a.example/x"}, Everything: true}
		}},
		{name: "bad id", edit: func(e *Event) { e.ID = "a b" }, wantField: "id"},
		{name: "unknown source", edit: func(e *Event) { e.Source = "email" }, wantField: "source"},
		{name: "missing type", edit: func(e *Event) { e.Type = "" }, wantField: "type"},
		{name: "missing page", edit: func(e *Event) { e.PageID = "" }, wantField: "page_id"},
		{name: "manual with bad page", edit: func(e *Event) { e.Source = SourceManual; e.PageID = "a/b" }, wantField: "page_id"},
		{name: "bad incident", edit: func(e *Event) { e.IncidentID = ".." }, wantField: "incident_id"},
		{name: "bad component", edit: func(e *Event) { e.ComponentIDs = []string{"c1", ""} }, wantField: "component_ids[1]"},
		{name: "bad url", edit: func(e *Event) { e.URLs = []string{"x"} }, wantField: "urls[0]"},
		{name: "bad tag", edit: func(e *Event) { e.Tags = []string{"ok", "ok", "not ok"} }, wantField: "tags[2]"},
		{name: "bad key", edit: func(e *Event) { e.Keys = []string{"\n"} }, wantField: "keys[0]"},
		{name: "bad manual host", edit: func(e *Event) { e.Source = SourceManual; e.Hosts = []string{"a b"} }, wantField: "hosts[0]"},
		{name: "bad manual prefix", edit: func(e *Event) { e.Source = SourceManual; e.Prefixes = []string{"http://a"} }, wantField: "prefixes[0]"},
		{name: "hosts from a hook", edit: func(e *Event) { e.Hosts = []string{"a.example"} }, wantField: "hosts"},
		{name: "prefixes from statuspage", edit: func(e *Event) { e.Source = SourceStatuspage; e.Prefixes = []string{"a.example/"} }, wantField: "prefixes"},
		{name: "everything from a hook", edit: func(e *Event) { e.Everything = true }, wantField: "everything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid
			tt.edit(&e)
			err := e.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Fatalf("Validate = %v, want a *FieldError for %q", err, tt.wantField)
			}
		})
	}
}
