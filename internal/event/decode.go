package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// SyntaxError is a body that is not one well-formed JSON object: bad JSON,
// an empty body, trailing data, a duplicate key, invalid UTF-8, or a
// top-level value that is not an object.
type SyntaxError struct {
	// Offset is how many bytes of the body had been read when the problem
	// was found: the offending byte is at index Offset-1.
	Offset int64
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at offset %d: %s", e.Offset, e.Msg)
}

// Keys match struct fields as encoding/json has always matched them, case
// insensitively but underscores included (so "PAGE_ID" is page_id, and
// "pageid" is not), which makes "page_id" and "PAGE_ID" in one object a
// duplicate. JSON v2's defaults refuse duplicate keys and invalid UTF-8: a
// signed body must mean one thing, whichever parser the sender used.
var (
	decodeOptions = json.JoinOptions(json.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true))
	strictOptions = json.JoinOptions(decodeOptions, json.RejectUnknownMembers(true))
)

// DecodeObject decodes body, which must be exactly one JSON object, into v
// (a pointer to a struct). Unknown fields are accepted so that senders can
// add fields. A key repeated in one object (for a field, in any case) and
// invalid UTF-8 are refused. Errors are a *SyntaxError, or a *FieldError
// for a value of the wrong JSON type.
func DecodeObject(body []byte, v any) error {
	return decodeObject(body, v, decodeOptions)
}

// DecodeObjectStrict is DecodeObject for bodies whose every field is known
// (the manual purge): an unknown field is a *FieldError naming it, so a
// typo such as "url" for "urls" is not silently ignored.
func DecodeObjectStrict(body []byte, v any) error {
	return decodeObject(body, v, strictOptions)
}

func decodeObject(body []byte, v any, opts json.Options) error {
	start := int64(len(body) - len(bytes.TrimLeft(body, " \t\r\n")))
	if start == int64(len(body)) {
		return &SyntaxError{Offset: start, Msg: "empty body, want a JSON object"}
	}
	err := json.Unmarshal(body, v, opts)
	if err == nil {
		if body[start] != '{' {
			// null, which v2 decodes into a struct as a no-op.
			return &SyntaxError{Offset: start + 1, Msg: "the body must be a JSON object"}
		}
		return nil
	}
	var syntax *jsontext.SyntacticError
	if errors.As(err, &syntax) {
		return syntaxError(body, syntax)
	}
	var semantic *json.SemanticError
	if errors.As(err, &semantic) {
		switch {
		case errors.Is(err, json.ErrUnknownName):
			return &FieldError{Field: semantic.JSONPointer.LastToken(), Reason: "unknown field"}
		case body[start] != '{':
			return &SyntaxError{Offset: start + 1, Msg: "the body must be a JSON object, not " + kindName(semantic.JSONKind)}
		case semantic.JSONPointer != "" && semantic.GoType != nil:
			return &FieldError{
				Field:  fieldName(semantic.JSONPointer),
				Reason: fmt.Sprintf("must be %s, not %s", jsonTypeName(semantic.GoType), kindName(semantic.JSONKind)),
			}
		}
	}
	// A bad v (not a pointer) is the caller's bug, not the sender's.
	return fmt.Errorf("decode JSON: %w", err)
}

// syntaxError is the *SyntaxError of a body that is not well-formed.
func syntaxError(body []byte, e *jsontext.SyntacticError) *SyntaxError {
	at := e.ByteOffset // the index of the byte where the decoder stopped
	if at < int64(len(body)) {
		if r, n := utf8.DecodeRune(body[at:]); r == utf8.RuneError && n == 1 {
			return &SyntaxError{Offset: at + 1, Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02x)", body[at])}
		}
	}
	switch {
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return &SyntaxError{Offset: int64(len(body)), Msg: "unexpected end of JSON input"}
	case errors.Is(e.Err, jsontext.ErrDuplicateName):
		return &SyntaxError{Offset: at + 1, Msg: "duplicate key " + quote(e.JSONPointer.LastToken())}
	case at <= int64(len(body)) && jsontext.Value(body[:at]).IsValid():
		// The object was whole before this byte.
		return &SyntaxError{Offset: at + 1, Msg: "unexpected data after the JSON object"}
	}
	return &SyntaxError{Offset: at + 1, Msg: e.Err.Error()}
}

// fieldName names the field at p as encoding/json did, by the keys on the
// way ("incident.incident_updates.created_at") without array indices.
func fieldName(p jsontext.Pointer) string {
	var names []string
	for tok := range p.Tokens() {
		if strings.Trim(tok, "0123456789") != "" {
			names = append(names, tok)
		}
	}
	return strings.Join(names, ".")
}

// kindName names a JSON kind with its article, for error messages.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a bool"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "this value"
}

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
