// Package jsonw appends JSON values byte for byte as encoding/json writes
// them, without reflection: for the hot path's answer and audit record,
// whose encoders are hand-written (fanout.AppendJSON, audit.AppendJSON)
// and pinned against encoding/json by tests, and (SlogString) for the log
// line, pinned against log/slog's.
package jsonw

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Float appends f as encoding/json writes a float64 (ES6 number formatting).
// The caller checks that f is finite: encoding/json refuses NaN and ±Inf.
func Float(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// htmlSafe and logSafe mark the ASCII bytes String and SlogString write
// as they are.
var htmlSafe, logSafe = safeSet("<>&"), safeSet("")

func safeSet(escaped string) (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && !strings.ContainsRune(escaped, rune(c))
	}
	return t
}

// String appends s as encoding/json writes a string: with HTML escaping
// (its default): <, > and & as \u00XX, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func String(b []byte, s string) []byte { return quote(b, s, &htmlSafe, true) }

// SlogString appends s as log/slog's JSONHandler writes a string: as
// String, but with <, > and & as they are, and \b and \f as \u0008 and
// \u000c.
func SlogString(b []byte, s string) []byte { return quote(b, s, &logSafe, false) }

// quote appends s quoted: the bytes safe marks as they are, \b and \f
// short when short says so.
func quote(b []byte, s string, safe *[utf8.RuneSelf]bool, short bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\b' && short:
				b = append(b, '\\', 'b')
			case c == '\f' && short:
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
