package event

import (
	"fmt"
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

// TestDuplicateKeysPerObject: keys repeat only within one object, however
// many keys it has (past a few, they are looked up in a map) and however
// deep it is.
func TestDuplicateKeysPerObject(t *testing.T) {
	keys := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `"%s%d":%d,`, prefix, i, i)
		}
		return b.String()
	}
	for body, dup := range map[string]string{
		`{"a":{"b":1,"c":2},"b":3,"c":{"a":[{"k":1},{"k":2}]}}`:   "",
		`{"a":{"b":1},"B":2,"A":3}`:                               `"A"`,
		`{` + keys("k", 40) + `"z":0}`:                            "",
		`{` + keys("k", 40) + `"K7":0}`:                           `"K7"`,
		`{"k3":0,` + keys("k", 40) + `"z":0}`:                     `"k3"`,
		`{"o":{` + keys("k", 40) + `"z":0},"k1":1,"o2":{"k1":2}}`: "",
		`{"o":{` + keys("k", 40) + `"z":0},"k1":1,"o":2}`:         `"o"`,
		`{"a":[{"x":1,"x":2}]}`:                                   `"x"`,
		`{"\u0041":1,"a":2}`:                                      `"a"`,
		`{"s":1,"ſ":2}`:                                           `"ſ"`,
	} {
		err := CheckDuplicateKeys([]byte(body))
		switch {
		case dup == "" && err != nil:
			t.Errorf("%.60s…: %v, want no duplicate", body, err)
		case dup != "" && (err == nil || !strings.HasSuffix(err.Error(), "duplicate key "+dup)):
			t.Errorf("%.60s…: %v, want duplicate key %s", body, err, dup)
		}
	}
}
