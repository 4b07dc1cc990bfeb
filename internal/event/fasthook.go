package event

import (
	"bytes"
	"unicode/utf8"
)

// hookFields are hookBody's JSON keys, in hookField's numbering.
var hookFields = [...]string{"type", "page_id", "incident_id", "occurred_at", "component_ids", "urls", "tags", "keys"}

// decodeHookFast decodes the common hook body into h in one pass, without
// reflection: one JSON object of hookBody's keys, each at most once and
// spelt exactly so, whose values are strings that need no unescaping,
// arrays of them, or null. It says false for anything else — an unknown
// key or one in another case, an escape, a number, a repeated key, bad
// JSON — and the body then goes through DecodeObject, whose result and
// errors are the reference. FuzzHookFastPath holds the two to the same
// result for every body the fast path takes.
//
// A body it takes cannot repeat a key: each known key is taken once, and
// there is no other object in it.
func decodeHookFast(body []byte, h *hookBody) bool {
	if !utf8.Valid(body) {
		return false
	}
	n := len(body)
	i := space(body, 0)
	if i == n || body[i] != '{' {
		return false
	}
	i = space(body, i+1)
	if i < n && body[i] == '}' {
		return space(body, i+1) == n
	}
	var seen uint8
	for {
		key, j, ok := plainString(body, i)
		if !ok {
			return false
		}
		f := hookField(key)
		if f < 0 || seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		i = space(body, j)
		if i == n || body[i] != ':' {
			return false
		}
		i = space(body, i+1)
		if i, ok = hookValue(body, i, h, f); !ok {
			return false
		}
		i = space(body, i)
		if i == n {
			return false
		}
		switch body[i] {
		case ',':
			i = space(body, i+1)
		case '}':
			return space(body, i+1) == n
		default:
			return false
		}
	}
}

// hookField is key's index in hookFields, or -1.
func hookField(key []byte) int {
	for f, name := range hookFields {
		if string(key) == name {
			return f
		}
	}
	return -1
}

// hookValue decodes the value at body[i] into field f of h and returns
// where it ends.
func hookValue(body []byte, i int, h *hookBody, f int) (int, bool) {
	if bytes.HasPrefix(body[i:], []byte("null")) {
		return i + len("null"), true // encoding/json leaves the field as it is
	}
	var s *string
	switch f {
	case 0:
		s = &h.Type
	case 1:
		s = &h.PageID
	case 2:
		s = &h.IncidentID
	case 3:
		s = &h.OccurredAt
	}
	if s != nil {
		v, j, ok := plainString(body, i)
		*s = string(v)
		return j, ok
	}
	var list *[]string
	switch f {
	case 4:
		list = &h.ComponentIDs
	case 5:
		list = &h.URLs
	case 6:
		list = &h.Tags
	case 7:
		list = &h.Keys
	}
	return stringArray(body, i, list)
}

// stringArray decodes the array of plain strings at body[i] into *list
// and returns where it ends. An empty array is an empty slice, not nil,
// as encoding/json makes it.
func stringArray(body []byte, i int, list *[]string) (int, bool) {
	n := len(body)
	if i == n || body[i] != '[' {
		return i, false
	}
	i = space(body, i+1)
	if i < n && body[i] == ']' {
		*list = []string{}
		return i + 1, true
	}
	var out []string
	for {
		v, j, ok := plainString(body, i)
		if !ok {
			return i, false
		}
		out = append(out, string(v))
		i = space(body, j)
		if i == n {
			return i, false
		}
		switch body[i] {
		case ',':
			i = space(body, i+1)
		case ']':
			*list = out
			return i + 1, true
		default:
			return i, false
		}
	}
}

// plainString is the content of the JSON string at body[i] and the index
// just past it, when the string needs no unescaping (no backslash) and is
// valid JSON (no control character).
func plainString(body []byte, i int) ([]byte, int, bool) {
	if i >= len(body) || body[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return body[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, j, false
		}
	}
	return nil, len(body), false
}

// space is the index of the first byte at or after i that is not JSON
// whitespace, or len(body).
func space(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
