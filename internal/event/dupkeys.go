package event

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// CheckDuplicateKeys returns a *SyntaxError for the first object key that
// repeats an earlier key of the same object. body must already be valid
// JSON (it is walked, not validated).
//
// A duplicate is refused rather than read "last one wins" because a signed
// body must mean one thing: the sender's parser may keep the first value
// while encoding/json keeps the last. Keys are compared as encoding/json
// matches them to struct fields, escapes decoded and case folded, so
// "page_id" and "PAGE_ID" (or "page\u005fid") are duplicates too.
func CheckDuplicateKeys(body []byte) error {
	// The open objects' keys, as the hash of each folded key and where
	// the key is in body, on the stack for most bodies: a body costs no
	// allocation. An object's keys are compared by hash one by one, and
	// when two hashes match, by their folded keys; past linearKeys, an
	// object's folded keys go in a map.
	var stackA [8]dupFrame
	var keysA [32]dupKey
	stack, keys := stackA[:0], keysA[:0]
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, dupFrame{object: true, expectKey: true, first: len(keys)})
		case '[':
			stack = append(stack, dupFrame{})
		case '}', ']':
			if f := stack[len(stack)-1]; f.object {
				keys = keys[:f.first]
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
			key := dupKey{hash: foldedHash(unquote(body[from : i+1])), from: from, to: i + 1}
			if f.set == nil && len(keys)-f.first >= linearKeys {
				f.set = make(map[string]struct{}, 2*linearKeys)
				for _, k := range keys[f.first:] {
					f.set[string(k.folded(body))] = struct{}{}
				}
			}
			dup := false
			if f.set != nil {
				folded := string(key.folded(body))
				_, dup = f.set[folded]
				f.set[folded] = struct{}{}
			} else {
				for _, k := range keys[f.first:] {
					if k.hash == key.hash && string(k.folded(body)) == string(key.folded(body)) {
						dup = true
						break
					}
				}
			}
			if dup {
				return &SyntaxError{
					Offset: int64(from) + 1,
					Msg:    "duplicate key " + quote(string(unquote(body[from:i+1]))),
				}
			}
			keys = append(keys, key)
		}
	}
	return nil
}

// dupFrame is an open object or array of CheckDuplicateKeys.
type dupFrame struct {
	object, expectKey bool
	first             int                 // its first key's index in keys
	set               map[string]struct{} // its folded keys, once past linearKeys
}

// dupKey is an object key of CheckDuplicateKeys: the hash of its folded
// form, and its literal, quotes included, at body[from:to].
type dupKey struct {
	hash     uint64
	from, to int
}

// folded is the key folded (see appendFolded).
func (k dupKey) folded(body []byte) []byte {
	return appendFolded(nil, unquote(body[k.from:k.to]))
}

// linearKeys is how many keys an object may have before its keys are
// looked up in a map rather than one by one.
const linearKeys = 64

// foldedHash is the FNV-1a hash of key folded (see appendFolded), made
// without a copy of it.
func foldedHash(key []byte) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			h = (h ^ uint64(c)) * prime
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		var buf [utf8.UTFMax]byte
		for _, c := range utf8.AppendRune(buf[:0], foldRune(r)) {
			h = (h ^ uint64(c)) * prime
		}
		i += n
	}
	return h
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
