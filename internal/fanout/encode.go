package fanout

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/edgepurge/edgepurge/internal/jsonw"
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
	b = jsonw.String(b, a.ID)
	b = append(b, `,"status":`...)
	b = jsonw.String(b, a.Status)
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
	b = jsonw.Float(b, a.DurationMS)
	if a.JournalID != "" {
		b = append(b, `,"journal_id":`...)
		b = jsonw.String(b, a.JournalID)
	}
	if a.JournalError != "" {
		b = append(b, `,"journal_error":`...)
		b = jsonw.String(b, a.JournalError)
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
		b = jsonw.String(b, p.Page)
	}
	if p.Zone != "" {
		field("zone")
		b = jsonw.String(b, p.Zone)
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
		b = jsonw.String(b, s)
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
	b = jsonw.String(b, r.Backend)
	b = append(b, `,"status":`...)
	b = jsonw.String(b, r.Status)
	b = append(b, `,"items":`...)
	b = strconv.AppendInt(b, int64(r.Items), 10)
	if r.Calls != 0 {
		b = append(b, `,"calls":`...)
		b = strconv.AppendInt(b, int64(r.Calls), 10)
	}
	b = append(b, `,"duration_ms":`...)
	b = jsonw.Float(b, r.DurationMS)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonw.String(b, r.Error)
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
			b = jsonw.String(b, n.Node)
			b = append(b, `,"status":`...)
			b = jsonw.String(b, n.Status)
			b = append(b, `,"items":`...)
			b = strconv.AppendInt(b, int64(n.Items), 10)
			if n.Calls != 0 {
				b = append(b, `,"calls":`...)
				b = strconv.AppendInt(b, int64(n.Calls), 10)
			}
			b = append(b, `,"duration_ms":`...)
			b = jsonw.Float(b, n.DurationMS)
			if n.Error != "" {
				b = append(b, `,"error":`...)
				b = jsonw.String(b, n.Error)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.PurgedBy != "" {
		b = append(b, `,"purged_by":`...)
		b = jsonw.String(b, r.PurgedBy)
	}
	if r.Escalation != "" {
		b = append(b, `,"escalation":`...)
		b = jsonw.String(b, r.Escalation)
	}
	return append(b, '}')
}

func appendCheck(b []byte, c *URLCheck) []byte {
	b = append(b, `{"url":`...)
	b = jsonw.String(b, c.URL)
	b = append(b, `,"result":`...)
	b = jsonw.String(b, c.Result)
	if c.Repurged {
		b = append(b, `,"repurged":true`...)
	}
	if c.Age != "" {
		b = append(b, `,"age":`...)
		b = jsonw.String(b, c.Age)
	}
	if c.CacheStatus != "" {
		b = append(b, `,"cache_status":`...)
		b = jsonw.String(b, c.CacheStatus)
	}
	if c.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonw.String(b, c.Error)
	}
	return append(b, '}')
}
