package event

import (
	"reflect"
	"testing"
)

// fastBodies are bodies the fast path must take: the core app's shapes.
var fastBodies = []string{
	hookSeeds[0], hookSeeds[1], hookSeeds[2], hookSeeds[3],
	`{}`,
	" \r\n\t{ \"page_id\" : \"p0\" , \"urls\" : [ ] , \"tags\" : null , \"keys\" : [ \"a\" , \"b\" ] } \n",
	`{"page_id":"p0","type":null,"urls":["https://p0.status.example.com/ünïcode"]}`,
	`{"page_id":"p0","x":1,"sent_by":{"app":"core","v":[1.5e3,true,null]}}`,
	`{"page_id":"p\u0030","urls":["https:\/\/x"]}`,
	`{"page_id":"p0","urls":[null,"u"]}`,
}

// slowBodies are bodies the fast path must leave to encoding/json.
var slowBodies = []string{
	`{"page_id":"p0","page_id":"p1"}`,
	`{"page_id":"p0","PAGE_ID":"p1"}`,
	`{"Page_id":"p0"}`,
	`{"page_id":"p0","x":{"a":1,"A":2}}`,
	`{"page_id":"p0","p\u0061ge_id":"p1"}`,
	`{"page_id":"p0","urls":"x"}`,
	`{"page_id":["p0"]}`,
	`{"page_id":"p0",}`,
	`{"page_id":"p0"} x`,
	`{"page_id":"p0"}{}`,
	`{"page_id":nul}`,
	`{"page_id":nullx}`,
	"{\"page_id\":\"p\x01\"}",
	"{\"page_id\":\"p\xff\"}",
	`[]`, `"p0"`, `null`, ``, `{`, `{"page_id"`, `{"page_id":"p0"`,
}

// TestHookFastPathTakesTheCommonShapes checks the fast path takes the
// common bodies with encoding/json's result, and leaves the others to it.
func TestHookFastPathTakesTheCommonShapes(t *testing.T) {
	for _, body := range fastBodies {
		var fast, slow hookBody
		if !decodeHookFast([]byte(body), &fast) {
			t.Errorf("fast path refused %q", body)
			continue
		}
		if err := DecodeObject([]byte(body), &slow); err != nil {
			t.Fatalf("DecodeObject(%q): %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q: fast path decoded %#v, encoding/json %#v", body, fast, slow)
		}
	}
	for _, body := range slowBodies {
		var h hookBody
		if decodeHookFast([]byte(body), &h) {
			t.Errorf("fast path took %q (%#v); it must leave it to DecodeObject", body, h)
		}
	}
}

// TestParseHookAnswersAsBefore checks ParseHook's answer for the bodies
// the fast path leaves alone is DecodeObject's: its error word for word,
// or, for a valid body such as one in another case, its page.
func TestParseHookAnswersAsBefore(t *testing.T) {
	for _, body := range slowBodies {
		ev, got := ParseHook("msg_1", []byte(body))
		var h hookBody
		want := DecodeObject([]byte(body), &h)
		switch {
		case want == nil && (got != nil || ev.PageID != h.PageID):
			t.Errorf("ParseHook(%q) = page %q, %v; want page %q", body, ev.PageID, got, h.PageID)
		case want != nil && (got == nil || got.Error() != want.Error()):
			t.Errorf("ParseHook(%q) = %v, want %v", body, got, want)
		}
	}
}

// FuzzHookFastPath: whatever body the fast path takes, DecodeObject takes
// too, with the same result, nil and empty slices alike.
func FuzzHookFastPath(f *testing.F) {
	for _, s := range append(append(fastBodies, slowBodies...), hookSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast, slow hookBody
		if !decodeHookFast(body, &fast) {
			return
		}
		if err := DecodeObject(body, &slow); err != nil {
			t.Fatalf("fast path took %q, DecodeObject refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path decoded %#v, encoding/json %#v", body, fast, slow)
		}
	})
}
