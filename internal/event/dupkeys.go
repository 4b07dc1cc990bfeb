package event

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// checkDuplicateKeys returns a *SyntaxError for the first object key that
// repeats an earlier key of the same object. body must already be valid
// JSON (it is walked, not validated).
//
// A duplicate is refused rather than read "last one wins" because a signed
// body must mean one thing: the sender's parser may keep the first value
// while encoding/json keeps the last. Keys are compared as encoding/json
// matches them to struct fields, escapes decoded and case folded, so
// "page_id" and "PAGE_ID" (or "page\u005fid") are duplicates too.
func checkDuplicateKeys(body []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]struct{}
	}
	var stack []frame
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, frame{object: true, expectKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].object {
				stack[top].expectKey = true
			}
		case '"':
			start := i
			i = stringEnd(body, i)
			top := len(stack) - 1
			if top < 0 || !stack[top].object || !stack[top].expectKey {
				continue
			}
			f := &stack[top]
			f.expectKey = false
			key := foldKey(unquote(body[start : i+1]))
			if f.keys == nil {
				f.keys = make(map[string]struct{})
			}
			if _, dup := f.keys[key]; dup {
				return &SyntaxError{
					Offset: int64(start) + 1,
					Msg:    "duplicate key " + quote(string(unquote(body[start:i+1]))),
				}
			}
			f.keys[key] = struct{}{}
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the JSON string that
// opens at body[i].
func stringEnd(body []byte, i int) int {
	for i++; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(body) - 1
}

// unquote decodes a JSON string literal (quotes included); escapes are rare
// in keys, so the plain case is a slice.
func unquote(lit []byte) []byte {
	inner := lit[1 : len(lit)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if err := json.Unmarshal(lit, &s); err != nil {
				return inner
			}
			return []byte(s)
		}
	}
	return inner
}

// foldKey folds a key the way encoding/json does when it matches a key to a
// struct field: ASCII upper-cased, other runes to the smallest of their
// simple fold set (so "ſ" matches "s" and the Kelvin sign matches "k").
func foldKey(key []byte) string {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// offsetOfInvalidUTF8 returns the index of the first byte of body that is not
// part of valid UTF-8, or -1.
func offsetOfInvalidUTF8(body []byte) int {
	for i := 0; i < len(body); {
		if body[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
