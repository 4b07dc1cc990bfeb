package statuspage

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgepurge/edgepurge/internal/event"
)

// FuzzParse: Parse never panics; a refused body is malformed (a 400) with a
// short printable message; an accepted one is a valid Statuspage event whose
// derived id is well formed and the same on every parse (so a retry is a
// duplicate), the event encoding/json reads in the body, and the same body
// with incident or component_update repeated is refused.
func FuzzParse(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range fixtures {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"page":{"id":"p0"},"incident":{"id":"i1","incident_updates":[{"id":"u1","created_at":"2026-11-01T10:00:00Z","affected_components":[{"code":"c1"}]}]}}`,
		`{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c1","created_at":"2026-11-01T10:05:00Z"},"component":{"id":"c2"}}`,
		`{"incident":{"id":"i1","page_id":"p0","scheduled_for":"2026-11-01T10:00:00Z","status":"in_progress"}}`,
		`{"page":{"id":"p0","id":"p1"},"incident":{"id":"i1"}}`,
		`{"page":{"id":"p/0"},"incident":{"id":"../i1"}}`,
		`{"page":null,"incident":null,"component_update":null}`,
		`[]`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		var n notification
		if json.Unmarshal(body, &n) == nil {
			want, wantErr := notificationEvent(n)
			var se *event.SyntaxError
			switch {
			case err == nil && wantErr != nil:
				t.Fatalf("accepted %q, encoding/json's reading of which is refused: %v", body, wantErr)
			case err == nil && !reflect.DeepEqual(e, want):
				t.Fatalf("%q: made %#v, encoding/json's reading %#v", body, e, want)
			case err != nil && wantErr == nil && !errors.As(err, &se):
				// What encoding/json reads is refused only for what it
				// lets through, a syntax error (event's FuzzParseHook
				// names them).
				t.Fatalf("refused %q, which encoding/json reads: %v", body, err)
			}
		} else if err == nil {
			t.Fatalf("accepted %q, which encoding/json refuses", body)
		}
		if err != nil {
			msg := err.Error()
			if !malformed(err) {
				t.Fatalf("error is not malformed (would be a 500): %v", err)
			}
			if !utf8.ValidString(msg) || len(msg) > 512 || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("bad error message (%d bytes): %q", len(msg), msg)
			}
			return
		}
		if verr := e.Validate(); verr != nil {
			t.Fatalf("accepted event does not validate: %v (%+v)", verr, e)
		}
		if e.Source != event.SourceStatuspage || e.PageID == "" || !e.Type.Valid() {
			t.Fatalf("accepted event = %+v", e)
		}
		digits, ok := strings.CutPrefix(e.ID, IDPrefix)
		if _, herr := hex.DecodeString(digits); !ok || len(digits) != 32 || herr != nil {
			t.Fatalf("id = %q, want sp_ and 32 hex digits", e.ID)
		}
		again, err := Parse(body)
		if err != nil || again.ID != e.ID {
			t.Fatalf("second parse: id %q, %v; first %q", again.ID, err, e.ID)
		}
		// An accepted body has one of the two, in some case.
		dup := append([]byte(`{"INCIDENT":null,"Component_Update":null,`), bytes.TrimLeft(body, " \t\r\n")[1:]...)
		if _, err := Parse(dup); err == nil || !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("%q with incident and component_update repeated: %v, want a duplicate key", body, err)
		}
	})
}

// malformed reports whether err says the sender's body is malformed (a
// *event.SyntaxError or *event.FieldError in its chain), which the HTTP
// layer answers 400.
func malformed(err error) bool {
	var se *event.SyntaxError
	var fe *event.FieldError
	return errors.As(err, &se) || errors.As(err, &fe)
}
