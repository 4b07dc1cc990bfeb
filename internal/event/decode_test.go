package event

import "testing"

func TestDecodeObjectCallerBugIsNotMalformed(t *testing.T) {
	var h hookBody
	err := DecodeObject([]byte(`{"page_id":"p0"}`), h) // not a pointer
	if err == nil || IsMalformed(err) {
		t.Fatalf("DecodeObject into a non-pointer = %v, want an error that is not malformed", err)
	}
}
