package event

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Walker decodes one JSON body in one pass, without reflection: the fast
// path of the parsers of the common bodies (ParseHook's, Statuspage's),
// whose reference stays encoding/json (DecodeObject). Each method walks
// one value into a Go value, as encoding/json would decode it, and says
// false when the body is not one it decodes without a doubt: the walk then
// stops, and the caller hands the whole body to DecodeObject, for its
// result and its exact error.
//
// Without a doubt means: valid UTF-8 and valid JSON (RFC 8259's grammar;
// values the caller does not read are checked and skipped); every key of
// the objects decoded is one of their fields spelt exactly so, or matches
// none of them in any case; each field comes once and has the JSON type
// its Go type takes, or null; every key in the body is ASCII without
// escapes, and none repeats another of its object in any case (so that
// encoding/json's refusal of a repeated key, see CheckDuplicateKeys, is a
// plain case-insensitive comparison, made as the walk goes).
//
// A Walker needs little stack (unlike encoding/json's reflection), so it
// can run on a request's goroutine. Use it by pointer, from Start to End.
type Walker struct {
	b []byte
	i int
	// keys[:open] are the keys of the objects open, for the repeated-key
	// check. A body with more open at once is left to encoding/json.
	keys [maxOpenKeys]keyRef
	open int
}

// maxOpenKeys is how many keys the objects open at once may have: a
// Statuspage incident (about 30) within its notification, with an update
// and a component open, fits.
const maxOpenKeys = 64

// maxSkipDepth is how deep a skipped value may nest before the body is
// left to encoding/json (whose own limit is far deeper).
const maxSkipDepth = 32

// Start readies w to walk body and reports whether body is valid UTF-8
// (encoding/json would make U+FFFD of invalid bytes; DecodeObject refuses
// them).
func (w *Walker) Start(body []byte) bool {
	w.b, w.i, w.open = body, 0, 0
	w.space()
	return utf8.Valid(body)
}

// End reports whether nothing but whitespace follows the value walked.
func (w *Walker) End() bool {
	w.space()
	return w.i == len(w.b)
}

// Object walks the object at w.i, calling field with the index in names
// of each key that is one of them (at most once each, to decode its
// value); the values of other keys are checked and skipped.
func (w *Walker) Object(field func(f int) bool, names ...string) bool {
	return w.object(0, field, names)
}

// object is Object, skipping the values of other keys at depth (see
// skip); a skipped object is one with no names.
func (w *Walker) object(depth int, field func(f int) bool, names []string) bool {
	if !w.byte('{') {
		return false
	}
	w.space()
	if w.byte('}') {
		return true
	}
	first := w.open
	var seen uint32
	for {
		key, ok := w.key(first)
		if !ok {
			return false
		}
		w.space()
		if !w.byte(':') {
			return false
		}
		w.space()
		f := match(key, names)
		switch {
		case f == -2:
			return false // another case of a field: encoding/json's to match
		case f == -1:
			if !w.skip(depth) {
				return false
			}
		case seen&(1<<f) != 0:
			return false
		default:
			seen |= 1 << f
			if !field(f) {
				return false
			}
		}
		w.space()
		if w.byte('}') {
			w.open = first
			return true
		}
		if !w.byte(',') {
			return false
		}
		w.space()
	}
}

// match is key's index in names, -1 for a key that matches none in any
// case, or -2 for one that matches one only in another case.
func match(key []byte, names []string) int {
	for f, name := range names {
		if string(key) == name {
			return f
		}
	}
	for _, name := range names {
		if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
			return -2
		}
	}
	return -1
}

// Array walks the array at w.i, calling elem to decode each element, or
// empty for []: encoding/json makes an empty slice of it, not nil. null
// leaves the field as it is (nil).
func (w *Walker) Array(elem func() bool, empty func()) bool {
	if w.null() {
		return true
	}
	if !w.byte('[') {
		return false
	}
	w.space()
	if w.byte(']') {
		empty()
		return true
	}
	for {
		if !elem() {
			return false
		}
		w.space()
		if w.byte(']') {
			return true
		}
		if !w.byte(',') {
			return false
		}
		w.space()
	}
}

// Pointer decodes an object into a pointer field by obj, which allocates
// it; null leaves the field as it is (nil).
func (w *Walker) Pointer(obj func() bool) bool {
	return w.null() || obj()
}

// String decodes a string into *s; null leaves it as it is.
func (w *Walker) String(s *string) bool {
	if w.null() {
		return true
	}
	start := w.i
	v, plain, ok := w.str()
	if !ok {
		return false
	}
	if plain {
		*s = string(v)
		return true
	}
	// An escape: encoding/json unquotes the one string, for its exact
	// handling of surrogates and the like.
	return json.Unmarshal(w.b[start:w.i], s) == nil
}

// Strings decodes an array of strings (or null) into *list.
func (w *Walker) Strings(list *[]string) bool {
	return w.Array(func() bool {
		*list = append(*list, "")
		return w.String(&(*list)[len(*list)-1])
	}, func() { *list = []string{} })
}

// str reads the JSON string at w.i and returns its raw content, whether
// it has no escape, and whether it is a valid JSON string.
func (w *Walker) str() (raw []byte, plain, ok bool) {
	if !w.byte('"') {
		return nil, false, false
	}
	start, plain := w.i, true
	for w.i < len(w.b) {
		c := w.b[w.i]
		switch {
		case c == '"':
			w.i++
			return w.b[start : w.i-1], plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			if !w.escape() {
				return nil, false, false
			}
			continue
		}
		w.i++
	}
	return nil, false, false
}

// escape checks the escape at w.i (a backslash) and steps over it.
func (w *Walker) escape() bool {
	if w.i+1 >= len(w.b) {
		return false
	}
	switch w.b[w.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		w.i += 2
		return true
	case 'u':
		if w.i+6 > len(w.b) {
			return false
		}
		for _, h := range w.b[w.i+2 : w.i+6] {
			if !isHex(h) {
				return false
			}
		}
		w.i += 6
		return true
	}
	return false
}

// skip checks the JSON value at w.i and steps over it.
func (w *Walker) skip(depth int) bool {
	if w.i >= len(w.b) || depth > maxSkipDepth {
		return false
	}
	switch c := w.b[w.i]; {
	case c == '"':
		_, _, ok := w.str()
		return ok
	case c == '{':
		return w.object(depth+1, nil, nil)
	case c == '[':
		return w.Array(func() bool { return w.skip(depth + 1) }, func() {})
	case c == '-' || c >= '0' && c <= '9':
		return w.number()
	default:
		return w.literal("true") || w.literal("false") || w.null()
	}
}

// number steps over the JSON number at w.i (RFC 8259's grammar).
func (w *Walker) number() bool {
	w.byte('-')
	switch {
	case w.byte('0'):
	case w.digits() > 0:
	default:
		return false
	}
	if w.byte('.') && w.digits() == 0 {
		return false
	}
	if w.byte('e') || w.byte('E') {
		if !w.byte('+') {
			w.byte('-')
		}
		if w.digits() == 0 {
			return false
		}
	}
	// The number must end there: "01" or "1x" is not JSON.
	return w.i == len(w.b) || !isDigit(w.b[w.i]) && !isLetter(w.b[w.i])
}

// digits steps over a run of decimal digits and returns its length.
func (w *Walker) digits() int {
	start := w.i
	for w.i < len(w.b) && isDigit(w.b[w.i]) {
		w.i++
	}
	return w.i - start
}

// null steps over a null at w.i, if there is one.
func (w *Walker) null() bool { return w.literal("null") }

// literal steps over word at w.i, if it is there and ends there.
func (w *Walker) literal(word string) bool {
	if !bytes.HasPrefix(w.b[w.i:], []byte(word)) {
		return false
	}
	end := w.i + len(word)
	if end < len(w.b) && (isLetter(w.b[end]) || isDigit(w.b[end])) {
		return false
	}
	w.i = end
	return true
}

// byte steps over c at w.i, if it is there.
func (w *Walker) byte(c byte) bool {
	if w.i < len(w.b) && w.b[w.i] == c {
		w.i++
		return true
	}
	return false
}

// space steps over JSON whitespace.
func (w *Walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\r', '\n':
			w.i++
		default:
			return
		}
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isHex(c byte) bool    { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// keyRef is an object's key: its case-folded hash, and where it is in the
// body.
type keyRef struct {
	hash     uint32
	from, to int32
}

// key reads the object key at w.i. It says false for a key with an
// escape or a non-ASCII byte, and for one that repeats, in any case, a
// key of the object whose keys start at w.keys[first], or that is one too
// many (see maxOpenKeys).
func (w *Walker) key(first int) ([]byte, bool) {
	from := w.i + 1
	key, plain, ok := w.str()
	if !ok || !plain {
		return nil, false
	}
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return nil, false
		}
	}
	h := uint32(foldedHash(key)) // half of it: a keyRef stays small on the stack
	for _, k := range w.keys[first:w.open] {
		if k.hash == h && bytes.EqualFold(w.b[k.from:k.to], key) {
			return nil, false
		}
	}
	if w.open == len(w.keys) {
		return nil, false
	}
	w.keys[w.open] = keyRef{hash: h, from: int32(from), to: int32(from + len(key))}
	w.open++
	return key, true
}
