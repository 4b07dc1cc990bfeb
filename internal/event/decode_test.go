package event

import (
	"strings"
	"testing"
)

func TestDecodeObjectCallerBugIsNotMalformed(t *testing.T) {
	var h hookBody
	err := DecodeObject([]byte(`{"page_id":"p0"}`), h) // not a pointer
	if err == nil || IsMalformed(err) {
		t.Fatalf("DecodeObject into a non-pointer = %v, want an error that is not malformed", err)
	}
}

// TestDuplicateKeysPerObject: a key repeats only within one object, however
// deep; a field's key repeats in any case, as it matches in any case.
func TestDuplicateKeysPerObject(t *testing.T) {
	for body, dup := range map[string]string{
		`{"a":{"b":1,"c":2},"b":3,"c":{"a":[{"k":1},{"k":2}]}}`: "",
		`{"Page_ID":"p0"}`:                  "",
		`{"a":[{"x":1,"x":2}]}`:             `"x"`,
		`{"\u0041":1,"A":2}`:                `"A"`,
		`{"page_id":"p0","PAGE_ID":"p1"}`:   `"PAGE_ID"`,
		`{"urls":[],"urlſ":[]}`:             `"urlſ"`,
		`{"tags":[],"x":{"tags":[]},"T":1}`: "",
	} {
		var h hookBody
		err := DecodeObject([]byte(body), &h)
		switch {
		case dup == "" && err != nil:
			t.Errorf("%s: %v, want no duplicate", body, err)
		case dup != "" && (err == nil || !strings.HasSuffix(err.Error(), "duplicate key "+dup)):
			t.Errorf("%s: %v, want duplicate key %s", body, err, dup)
		}
	}
}
