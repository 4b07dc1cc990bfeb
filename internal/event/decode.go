package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// SyntaxError is a body that is not one well-formed JSON object: bad JSON,
// an empty body, trailing data, or a top-level value that is not an object.
type SyntaxError struct {
	// Offset is how many bytes of the body had been read when the problem
	// was found, encoding/json's convention: the offending byte is the
	// Offset-th, at index Offset-1.
	Offset int64
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at offset %d: %s", e.Offset, e.Msg)
}

// IsMalformed reports whether err says the sender's body is malformed (a
// *SyntaxError or a *FieldError anywhere in its chain): the HTTP layer
// answers those with 400 and the error's message.
func IsMalformed(err error) bool {
	var se *SyntaxError
	var fe *FieldError
	return errors.As(err, &se) || errors.As(err, &fe)
}

// DecodeObject decodes body, which must be exactly one JSON object, into v
// (a pointer to a struct). Unknown fields are accepted so that senders can
// add fields. Keys match struct tags case-insensitively, so a key repeated in
// one object, even in another case, is refused (see CheckDuplicateKeys), as
// is invalid UTF-8. Errors are a *SyntaxError, or a *FieldError for a value
// of the wrong JSON type.
func DecodeObject(body []byte, v any) error {
	return decodeObject(body, v, false)
}

// DecodeObjectStrict is DecodeObject for bodies whose every field is known
// (the manual purge): an unknown field is a *FieldError naming it, so a
// typo such as "url" for "urls" is not silently ignored.
func DecodeObjectStrict(body []byte, v any) error {
	return decodeObject(body, v, true)
}

// decodeObject checks, in order of cost: an empty body, invalid UTF-8
// (RFC 8259 requires UTF-8; encoding/json would silently turn it into
// U+FFFD), the JSON itself, then duplicate keys.
func decodeObject(body []byte, v any, strict bool) error {
	start := skipSpace(body, 0)
	if start == int64(len(body)) {
		return &SyntaxError{Offset: start, Msg: "empty body, want a JSON object"}
	}
	if i := offsetOfInvalidUTF8(body); i >= 0 {
		return &SyntaxError{Offset: int64(i) + 1, Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02x)", body[i])}
	}
	if !strict && json.Unmarshal(body, v) == nil {
		// The common case, without a Decoder and its copy of the body:
		// Unmarshal accepts exactly one JSON value and nothing after it.
		// Any error is found again below, for its exact answer.
		if body[start] != '{' {
			return &SyntaxError{Offset: start + 1, Msg: "the body must be a JSON object"}
		}
		return CheckDuplicateKeys(body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err, start, int64(len(body)))
	}
	if body[start] != '{' {
		// Only null gets here: encoding/json decodes it into a struct as a
		// no-op, and every other non-object is an UnmarshalTypeError.
		return &SyntaxError{Offset: start + 1, Msg: "the body must be a JSON object"}
	}
	if rest := skipSpace(body, dec.InputOffset()); rest < int64(len(body)) {
		return &SyntaxError{Offset: rest + 1, Msg: "unexpected data after the JSON object"}
	}
	return CheckDuplicateKeys(body)
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(body).
func skipSpace(body []byte, i int64) int64 {
	for i < int64(len(body)) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func decodeError(err error, start, end int64) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &SyntaxError{Offset: syntax.Offset, Msg: syntax.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &SyntaxError{Offset: end, Msg: "unexpected end of JSON input"}
	case errors.As(err, &typ) && typ.Field == "":
		return &SyntaxError{Offset: start + 1, Msg: "the body must be a JSON object, not " + articled(typ.Value)}
	case errors.As(err, &typ):
		return &FieldError{Field: typ.Field, Reason: fmt.Sprintf("must be %s, not %s", jsonTypeName(typ.Type), articled(typ.Value))}
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		// DisallowUnknownFields has no error type of its own.
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), unknownFieldPrefix))
		if uerr != nil {
			name = "?"
		}
		return &FieldError{Field: name, Reason: "unknown field"}
	default:
		// A bad v (not a pointer) is the caller's bug, not the sender's.
		return fmt.Errorf("decode JSON: %w", err)
	}
}

// unknownFieldPrefix starts encoding/json's error for an unknown field.
const unknownFieldPrefix = "json: unknown field "

// jsonTypeName names the JSON type that decodes into t, for error messages.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(t.Elem())
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	default:
		return "an object"
	}
}

func plural(t reflect.Type) string {
	switch name := jsonTypeName(t); {
	case name == "an object":
		return "objects"
	case len(name) > 2 && name[:2] == "a ":
		return name[2:] + "s"
	default:
		return name
	}
}

// articled turns encoding/json's description of a value ("number", "array",
// "number 1.5") into a phrase with an article.
func articled(value string) string {
	if value == "" {
		return "this value"
	}
	// encoding/json describes a number by its literal ("number 1e400"),
	// which the sender controls: keep only the kind when it is long.
	if kind, _, ok := strings.Cut(value, " "); ok && len(value) > 32 {
		value = kind
	}
	switch value[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + value
	}
	return "a " + value
}
