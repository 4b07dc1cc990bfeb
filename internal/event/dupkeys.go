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
	// The open objects' folded keys, back to back in folded (ends[k] is
	// where key k ends), on the stack for most bodies: a body costs a few
	// allocations, not one per key. An object with few keys is searched
	// linearly; past linearKeys, through a map.
	var stackA [8]dupFrame
	var foldedA [512]byte
	var endsA [32]int
	stack, folded, ends := stackA[:0], foldedA[:0], endsA[:0]
	start := func(k int) int {
		if k == 0 {
			return 0
		}
		return ends[k-1]
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, dupFrame{object: true, expectKey: true, first: len(ends)})
		case '[':
			stack = append(stack, dupFrame{})
		case '}', ']':
			if f := stack[len(stack)-1]; f.object {
				folded, ends = folded[:start(f.first)], ends[:f.first]
			}
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].object {
				stack[top].expectKey = true
			}
		case '"':
			from := i
			i = stringEnd(body, i)
			top := len(stack) - 1
			if top < 0 || !stack[top].object || !stack[top].expectKey {
				continue
			}
			f := &stack[top]
			f.expectKey = false
			at := len(folded)
			folded = appendFolded(folded, unquote(body[from:i+1]))
			key := folded[at:]
			if f.set == nil && len(ends)-f.first >= linearKeys {
				f.set = make(map[string]struct{}, 2*linearKeys)
				for k := f.first; k < len(ends); k++ {
					f.set[string(folded[start(k):ends[k]])] = struct{}{}
				}
			}
			dup := false
			if f.set != nil {
				_, dup = f.set[string(key)]
				f.set[string(key)] = struct{}{}
			} else {
				for k := f.first; k < len(ends) && !dup; k++ {
					dup = string(folded[start(k):ends[k]]) == string(key)
				}
			}
			if dup {
				return &SyntaxError{
					Offset: int64(from) + 1,
					Msg:    "duplicate key " + quote(string(unquote(body[from:i+1]))),
				}
			}
			ends = append(ends, len(folded))
		}
	}
	return nil
}

// dupFrame is an open object or array of checkDuplicateKeys.
type dupFrame struct {
	object, expectKey bool
	first             int                 // its first key's index in ends
	set               map[string]struct{} // its keys, once past linearKeys
}

// linearKeys is how many keys an object may have before its keys are
// looked up in a map rather than one by one.
const linearKeys = 16

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

// appendFolded appends key folded the way encoding/json folds a key to
// match it to a struct field: ASCII upper-cased, other runes to the
// smallest of their simple fold set (so "ſ" matches "s" and the Kelvin
// sign matches "k").
func appendFolded(out, key []byte) []byte {
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
	return out
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
