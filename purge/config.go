package purge

import (
	"fmt"
	"net/url"
	"strings"
)

// Secret is a credential from the config. It prints, logs and marshals
// as "[redacted]" so that it can never leak through a log line or an
// answer.
type Secret string

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText implements encoding.TextMarshaler (JSON and YAML output).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Value returns the secret itself, for the code that must use it.
func (s Secret) Value() string { return string(s) }

// ZoneRule is what ValidZone accepts, for error messages.
const ZoneRule = "a zone is 1 to 64 letters, digits, '-' or '_' (a Cloudflare zone ID is 32 hex digits)"

// ValidZone reports whether zone may name a CDN zone (or a Fastly service,
// or an account): it becomes a part of an API path, a queue's key and a
// metric label, so it is short and plain, whether it comes from the config
// or from the page registry.
func ValidZone(zone string) bool {
	if zone == "" || len(zone) > 64 {
		return false
	}
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CheckBaseURL accepts http(s)://host[:port] with no path or query: the
// base of an API or a cache node.
func CheckBaseURL(s string) error {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return fmt.Errorf("%q: want http(s)://host:port", s)
	}
	return nil
}
