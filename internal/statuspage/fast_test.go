package statuspage

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edgepurge/edgepurge/internal/event"
)

// fastBodies are notifications the fast path must take: the fixtures (in
// Statuspage's documented shape, unknown fields and all) and these.
var fastBodies = []string{
	`{"page":{"id":"p0"},"incident":{"id":"i1","incident_updates":[{"id":"u1","created_at":"2026-11-01T10:00:00Z","affected_components":[{"code":"c1","name":"API \u00e9\"x\"","old_status":"operational"}]}]}}`,
	`{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c1","created_at":"2026-11-01T10:05:00Z"},"component":{"id":"c2","position":-1.5e3,"group":false,"x":[1,[true,{"a":null}],"s"]}}`,
	`{"incident":{"id":"i1","page_id":"p0","scheduled_for":"2026-11-01T10:00:00Z","status":"in_progress","incident_updates":[],"components":[]}}`,
	`{"page":null,"incident":null,"component_update":null}`,
	`{"page":{"id":"p\u0030"},"incident":{"id":"i\ud83d\ude00","status":"x\udc00"}}`,
	" \n{ \"page\" : { \"id\" : \"p0\" } , \"incident\" : { \"id\" : \"i1\" } } \t",
	`{}`,
}

// slowBodies are bodies the fast path must leave to encoding/json.
var slowBodies = []string{
	`{"page":{"id":"p0","id":"p1"},"incident":{"id":"i1"}}`,
	`{"page":{"id":"p0"},"x":{"a":1,"a":2}}`,
	`{"Page":{"id":"p0"}}`,
	`{"page":{"ID":"p0"}}`,
	`{"pa\u0067e":{"id":"p0"}}`,
	"{\"page\":{\"\u017fid\":\"p0\"}}",
	`{"page":{"id":5}}`,
	`{"page":"p0"}`,
	`{"incident":{"incident_updates":[null]}}`,
	`{"incident":{"incident_updates":{}}}`,
	`{"page":{"id":"p0"},"x":01}`,
	`{"page":{"id":"p0"},"x":1.}`,
	`{"page":{"id":"p0"},"x":1e}`,
	`{"page":{"id":"p0"},"x":-}`,
	`{"page":{"id":"p0"},"x":tru}`,
	`{"page":{"id":"p0"},"x":truex}`,
	`{"page":{"id":"p0"},"x":"\x"}`,
	`{"page":{"id":"p0"},"x":"\u12"}`,
	"{\"page\":{\"id\":\"p0\"},\"x\":\"\x01\"}",
	"{\"page\":{\"id\":\"p\xff\"}}",
	`{"page":{"id":"p0"},}`,
	`{"page":{"id":"p0"}} {}`,
	`[]`, `null`, ``, `{`, `{"page"`,
}

func fixtureBodies(t testing.TB) [][]byte {
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var bodies [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	for _, s := range fastBodies {
		bodies = append(bodies, []byte(s))
	}
	return bodies
}

// TestFastPathTakesNotifications checks the fast path takes Statuspage's
// notifications with encoding/json's result, and leaves odd bodies to it.
func TestFastPathTakesNotifications(t *testing.T) {
	for _, body := range fixtureBodies(t) {
		var fast, slow notification
		if !decodeFast(body, &fast) {
			t.Errorf("fast path refused %s", body)
			continue
		}
		if err := event.DecodeObject(body, &slow); err != nil {
			t.Fatalf("DecodeObject(%s): %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: fast path decoded %+v, encoding/json %+v", body, fast, slow)
		}
	}
	for _, body := range slowBodies {
		var n notification
		if decodeFast([]byte(body), &n) {
			t.Errorf("fast path took %q (%+v); it must leave it to encoding/json", body, n)
		}
	}
}

// TestParseAnswersAsBefore checks Parse's answer for the bodies the fast
// path leaves alone is encoding/json's, word for word.
func TestParseAnswersAsBefore(t *testing.T) {
	for _, body := range slowBodies {
		_, got := Parse([]byte(body))
		var n notification
		var want error
		if err := event.DecodeObject([]byte(body), &n); err != nil {
			want = fmt.Errorf("statuspage notification: %w", err)
		} else {
			_, want = notificationEvent(n)
		}
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Errorf("Parse(%q) = %v, want %v", body, got, want)
		}
	}
}

// TestParseSlowAnswersAsParseFast: for every body the fast path takes,
// ParseSlow (the server's fallback, by encoding/json alone) makes the same
// event, or the same error.
func TestParseSlowAnswersAsParseFast(t *testing.T) {
	bodies := fixtureBodies(t)
	for _, b := range fastBodies {
		bodies = append(bodies, []byte(b))
	}
	for _, body := range bodies {
		fast, handled, fastErr := ParseFast(body)
		if !handled {
			t.Errorf("ParseFast left %s", body)
			continue
		}
		slow, slowErr := ParseSlow(body)
		if (fastErr == nil) != (slowErr == nil) || fastErr != nil && fastErr.Error() != slowErr.Error() {
			t.Errorf("%s: ParseFast's error %v, ParseSlow's %v", body, fastErr, slowErr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: ParseFast made %+v, ParseSlow %+v", body, fast, slow)
		}
	}
}

// FuzzFastPath: whatever body the fast path takes, encoding/json takes
// too, with the same notification, nil and empty slices alike.
func FuzzFastPath(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
	}
	for _, s := range slowBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast, slow notification
		if !decodeFast(body, &fast) {
			return
		}
		if err := event.DecodeObject(body, &slow); err != nil {
			t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path decoded %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// BenchmarkParse parses the incident-update fixture, by the fast path
// ("fast") and by encoding/json ("encoding-json").
func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "incident-update.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseSlow(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
