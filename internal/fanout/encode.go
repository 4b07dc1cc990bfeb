package fanout

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/edgepurge/edgepurge/internal/plan"
)

// AppendJSON appends a's JSON to dst: the answer's wire format, byte for
// byte what encoding/json writes for it (field order, omitempty, HTML-safe
// string escaping, float formatting), without reflection. The golden files
// in testdata pin it. A value encoding/json cannot encode (a NaN or
// infinite duration) is encoding/json's error, as before.
func AppendJSON(dst []byte, a *Answer) ([]byte, error) {
	if !a.finite() {
		_, err := json.Marshal(a)
		return dst, err
	}
	b := append(dst, `{"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"status":`...)
	b = appendString(b, a.Status)
	b = append(b, `,"plan":`...)
	b = appendPlan(b, &a.Plan)
	b = append(b, `,"results":`...)
	b = appendResults(b, a.Results)
	if len(a.Verification) > 0 {
		b = append(b, `,"verification":[`...)
		for i := range a.Verification {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCheck(b, &a.Verification[i])
		}
		b = append(b, ']')
	}
	if len(a.Repurge) > 0 {
		b = append(b, `,"repurge":`...)
		b = appendResults(b, a.Repurge)
	}
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, a.DurationMS)
	if a.JournalID != "" {
		b = append(b, `,"journal_id":`...)
		b = appendString(b, a.JournalID)
	}
	if a.JournalError != "" {
		b = append(b, `,"journal_error":`...)
		b = appendString(b, a.JournalError)
	}
	return append(b, '}'), nil
}

// finite reports whether every float of a can be encoded.
func (a *Answer) finite() bool {
	ok := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	if !ok(a.DurationMS) {
		return false
	}
	for _, rs := range [][]Result{a.Results, a.Repurge} {
		for i := range rs {
			if !ok(rs[i].DurationMS) {
				return false
			}
			for j := range rs[i].Nodes {
				if !ok(rs[i].Nodes[j].DurationMS) {
					return false
				}
			}
		}
	}
	return true
}

func appendPlan(b []byte, p *plan.Plan) []byte {
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	if p.Page != "" {
		field("page")
		b = appendString(b, p.Page)
	}
	if p.Zone != "" {
		field("zone")
		b = appendString(b, p.Zone)
	}
	field("urls")
	b = appendStrings(b, p.URLs)
	field("tags")
	b = appendStrings(b, p.Tags)
	if len(p.Hosts) > 0 {
		field("hosts")
		b = appendStrings(b, p.Hosts)
	}
	if len(p.Prefixes) > 0 {
		field("prefixes")
		b = appendStrings(b, p.Prefixes)
	}
	if p.Everything {
		field("everything")
		b = append(b, "true"...)
	}
	field("keys")
	b = appendStrings(b, p.Keys)
	if len(p.KeySets) > 0 {
		field("key_sets")
		b = appendStrings(b, p.KeySets)
	}
	if len(p.Warnings) > 0 {
		field("warnings")
		b = appendStrings(b, p.Warnings)
	}
	if p.Cover != nil {
		field("cover")
		b = append(b, '{')
		if len(p.Cover.Tags) > 0 {
			b = append(b, `"tags":`...)
			b = appendStrings(b, p.Cover.Tags)
		}
		if len(p.Cover.Hosts) > 0 {
			if len(p.Cover.Tags) > 0 {
				b = append(b, ',')
			}
			b = append(b, `"hosts":`...)
			b = appendStrings(b, p.Cover.Hosts)
		}
		b = append(b, '}')
	}
	if p.Incomplete {
		field("incomplete")
		b = append(b, "true"...)
	}
	return append(b, '}')
}

// appendStrings writes a list as encoding/json does: null when nil.
func appendStrings(b []byte, l []string) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendResults(b []byte, rs []Result) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendResult(b, &rs[i])
	}
	return append(b, ']')
}

func appendResult(b []byte, r *Result) []byte {
	b = append(b, `{"backend":`...)
	b = appendString(b, r.Backend)
	b = append(b, `,"status":`...)
	b = appendString(b, r.Status)
	b = append(b, `,"items":`...)
	b = strconv.AppendInt(b, int64(r.Items), 10)
	if r.Calls != 0 {
		b = append(b, `,"calls":`...)
		b = strconv.AppendInt(b, int64(r.Calls), 10)
	}
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, r.DurationMS)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if len(r.ErrorCodes) > 0 {
		b = append(b, `,"error_codes":[`...)
		for i, c := range r.ErrorCodes {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(c), 10)
		}
		b = append(b, ']')
	}
	if r.Retryable {
		b = append(b, `,"retryable":true`...)
	}
	if r.Unsent {
		b = append(b, `,"unsent":true`...)
	}
	if len(r.Nodes) > 0 {
		b = append(b, `,"nodes":[`...)
		for i := range r.Nodes {
			if i > 0 {
				b = append(b, ',')
			}
			n := &r.Nodes[i]
			b = append(b, `{"node":`...)
			b = appendString(b, n.Node)
			b = append(b, `,"status":`...)
			b = appendString(b, n.Status)
			b = append(b, `,"items":`...)
			b = strconv.AppendInt(b, int64(n.Items), 10)
			if n.Calls != 0 {
				b = append(b, `,"calls":`...)
				b = strconv.AppendInt(b, int64(n.Calls), 10)
			}
			b = append(b, `,"duration_ms":`...)
			b = appendFloat(b, n.DurationMS)
			if n.Error != "" {
				b = append(b, `,"error":`...)
				b = appendString(b, n.Error)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.PurgedBy != "" {
		b = append(b, `,"purged_by":`...)
		b = appendString(b, r.PurgedBy)
	}
	if r.Escalation != "" {
		b = append(b, `,"escalation":`...)
		b = appendString(b, r.Escalation)
	}
	return append(b, '}')
}

func appendCheck(b []byte, c *URLCheck) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, c.URL)
	b = append(b, `,"result":`...)
	b = appendString(b, c.Result)
	if c.Repurged {
		b = append(b, `,"repurged":true`...)
	}
	if c.Age != "" {
		b = append(b, `,"age":`...)
		b = appendString(b, c.Age)
	}
	if c.CacheStatus != "" {
		b = append(b, `,"cache_status":`...)
		b = appendString(b, c.CacheStatus)
	}
	if c.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, c.Error)
	}
	return append(b, '}')
}

// appendFloat is encoding/json's float64 encoding (ES6 number formatting).
func appendFloat(b []byte, f float64) []byte {
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

// htmlSafe marks the ASCII bytes written as they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString is encoding/json's string encoding with HTML escaping (its
// default): <, > and & as \u00XX, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
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
