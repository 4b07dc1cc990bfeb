package event

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the values of an event.
const (
	MaxIDLen  = 128
	MaxURLLen = 2048
	// MaxTagLen is Cloudflare's limit on one cache-tag in a purge call.
	MaxTagLen    = 1024
	MaxKeyLen    = 512
	MaxHostLen   = 253
	MaxPrefixLen = 2048
	// MaxListLen bounds every list of an event (urls, tags, keys, ...), so
	// that one request cannot become a purge storm; the plan's own ceiling
	// (limits.max_plan_urls) applies on top.
	MaxListLen = 1000
)

// Validate checks every field of e and returns a *FieldError for the first
// bad one, named as in the core app's JSON ("page_id", "urls[3]"). Type and
// PageID are required except for manual events (a manual purge of a URL or
// a zone has no page); Hosts, Prefixes and Everything are only allowed in
// manual events. ID is checked when set.
func (e Event) Validate() error {
	manual := e.Source == SourceManual
	if e.ID != "" {
		if err := ValidateID("id", e.ID); err != nil {
			return err
		}
	}
	switch e.Source {
	case "", SourceHook, SourceStatuspage, SourceManual:
	default:
		return &FieldError{Field: "source", Reason: fmt.Sprintf("unknown source %s", quote(string(e.Source)))}
	}
	if err := validateType(e.Type, manual); err != nil {
		return err
	}
	if e.PageID != "" || !manual {
		if err := ValidateID("page_id", e.PageID); err != nil {
			return err
		}
	}
	if e.IncidentID != "" {
		if err := ValidateID("incident_id", e.IncidentID); err != nil {
			return err
		}
	}
	checks := []struct {
		field  string
		values []string
		check  func(field, s string) error
	}{
		{"component_ids", e.ComponentIDs, ValidateID},
		{"urls", e.URLs, ValidateURL},
		{"tags", e.Tags, ValidateTag},
		{"keys", e.Keys, ValidateKey},
		{"hosts", e.Hosts, ValidateHost},
		{"prefixes", e.Prefixes, ValidatePrefix},
	}
	for _, c := range checks {
		if len(c.values) > MaxListLen {
			return &FieldError{Field: c.field, Reason: fmt.Sprintf("%d entries, more than the limit of %d", len(c.values), MaxListLen)}
		}
		for i, s := range c.values {
			if err := c.check(c.field+"["+strconv.Itoa(i)+"]", s); err != nil {
				return err
			}
		}
	}
	if !manual {
		switch {
		case len(e.Hosts) > 0:
			return &FieldError{Field: "hosts", Reason: "only a manual purge may purge whole hosts"}
		case len(e.Prefixes) > 0:
			return &FieldError{Field: "prefixes", Reason: "only a manual purge may purge prefixes"}
		case e.Everything:
			return &FieldError{Field: "everything", Reason: "only a manual purge may purge everything"}
		}
	}
	return nil
}

func validateType(t Type, manual bool) error {
	if t == "" && manual {
		return nil
	}
	if t.Valid() {
		return nil
	}
	names := make([]string, len(Types))
	for i, k := range Types {
		names[i] = string(k)
	}
	reason := "required; want one of " + strings.Join(names, ", ")
	if t != "" {
		reason = fmt.Sprintf("unknown type %s; want one of %s", quote(string(t)), strings.Join(names, ", "))
	}
	return &FieldError{Field: "type", Reason: reason}
}

// ValidateID checks a page, incident or component id: 1 to 128 characters of
// A-Z a-z 0-9 _ . : -, and no "..", so that an id is safe in a URL path, a
// cache tag and a Redis key. field names the value in the error.
func ValidateID(field, s string) error {
	if err := checkLen(field, s, MaxIDLen); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		if !isIDByte(s[i]) {
			return badChar(field, s, i, "allowed: A-Z a-z 0-9 _ . : -")
		}
	}
	if strings.Contains(s, "..") {
		return &FieldError{Field: field, Reason: `must not contain ".."`}
	}
	if s == "." {
		return &FieldError{Field: field, Reason: `must not be "."`}
	}
	return nil
}

func isIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

// ValidateURL checks a URL to purge: an absolute http or https URL with a
// host, no userinfo and no fragment, at most 2048 bytes of printable ASCII
// (non-ASCII must be percent-encoded, as it is in the cache key), and no
// braces (an unexpanded template).
func ValidateURL(field, s string) error {
	if err := checkLen(field, s, MaxURLLen); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f:
			return badChar(field, s, i, "a URL must be printable ASCII; percent-encode the rest")
		case c == '{' || c == '}':
			return badChar(field, s, i, "braces look like an unexpanded template")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return &FieldError{Field: field, Reason: "not a valid URL"}
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return &FieldError{Field: field, Reason: "must be an absolute http or https URL"}
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return &FieldError{Field: field, Reason: "must have a host"}
	case u.User != nil:
		return &FieldError{Field: field, Reason: "must not contain a user or password"}
	case strings.Contains(s, "#"):
		return &FieldError{Field: field, Reason: "must not have a fragment (#...), which is never part of a cached URL"}
	}
	return nil
}

// ValidateTag checks a CDN cache tag: 1 to 1024 bytes of printable ASCII
// without spaces (Cloudflare's rules), commas (the Cache-Tag separator) or
// braces (an unexpanded template).
func ValidateTag(field, s string) error {
	if err := checkLen(field, s, MaxTagLen); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f:
			return badChar(field, s, i, "a tag must be printable ASCII without spaces")
		case c == ',':
			return badChar(field, s, i, "commas separate tags")
		case c == '{' || c == '}':
			return badChar(field, s, i, "braces look like an unexpanded template")
		}
	}
	return nil
}

// ValidateKey checks a Redis key: 1 to 512 bytes of valid UTF-8 without
// control characters or whitespace. Braces are allowed, as Redis Cluster hash
// tags use them ("statuspage:{p0}:summary"), but not around a template
// variable ("{page_id}"): that is an unexpanded template, never a real key.
func ValidateKey(field, s string) error {
	if err := checkLen(field, s, MaxKeyLen); err != nil {
		return err
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			return &FieldError{Field: field, Reason: fmt.Sprintf("invalid UTF-8 at byte %d", i)}
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return badChar(field, s, i, "a key must not contain whitespace or control characters")
		}
	}
	for _, v := range templateVars {
		if i := strings.Index(s, "{"+v+"}"); i >= 0 {
			return &FieldError{Field: field, Reason: fmt.Sprintf("{%s} at byte %d looks like an unexpanded template", v, i)}
		}
	}
	return nil
}

// templateVars are the variables of package plan's templates (which imports
// this package, hence the copy).
var templateVars = []string{"page_id", "incident_id", "component_id", "host"}

// ValidateHost checks a hostname to purge entirely: 1 to 253 bytes of
// dot-separated labels of A-Z a-z 0-9 - _, each 1 to 63 bytes, without a
// scheme, port or path.
func ValidateHost(field, s string) error {
	if err := checkLen(field, s, MaxHostLen); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isIDByte(c) && c != ':') {
			return badChar(field, s, i, "a host is letters, digits, '-', '_' and dots, without scheme, port or path")
		}
	}
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return &FieldError{Field: field, Reason: "empty label in host"}
		case len(label) > 63:
			return &FieldError{Field: field, Reason: "host label longer than 63 bytes"}
		case label[0] == '-' || label[len(label)-1] == '-':
			return &FieldError{Field: field, Reason: "host label starts or ends with '-'"}
		}
	}
	return nil
}

// ValidatePrefix checks a URL prefix to purge, in Cloudflare's form: a host
// and optional path without scheme, query, fragment or wildcard, e.g.
// "p0.status.example.com/api/v2/", at most 2048 bytes of printable ASCII.
func ValidatePrefix(field, s string) error {
	if err := checkLen(field, s, MaxPrefixLen); err != nil {
		return err
	}
	if strings.Contains(s, "://") {
		return &FieldError{Field: field, Reason: "a prefix has no scheme: host/path"}
	}
	host, _, _ := strings.Cut(s, "/")
	if err := ValidateHost(field, host); err != nil {
		return err
	}
	for i := len(host); i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f:
			return badChar(field, s, i, "a prefix must be printable ASCII; percent-encode the rest")
		case c == '?' || c == '#' || c == '*':
			return badChar(field, s, i, "a prefix has no query, fragment or wildcard")
		case c == '{' || c == '}':
			return badChar(field, s, i, "braces look like an unexpanded template")
		}
	}
	return nil
}

func checkLen(field, s string, max int) error {
	switch {
	case s == "":
		return &FieldError{Field: field, Reason: "required, must not be empty"}
	case len(s) > max:
		return &FieldError{Field: field, Reason: fmt.Sprintf("longer than %d bytes", max)}
	}
	return nil
}

// badChar reports the character at byte i of s; the value itself is not
// echoed, as it may be long or hostile.
func badChar(field, s string, i int, why string) error {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return &FieldError{Field: field, Reason: fmt.Sprintf("character %q at byte %d is not allowed (%s)", r, i, why)}
}

// quote quotes a sender's value for an error message, cut to a sane length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
