package statuspage

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/edgepurge/edgepurge/internal/event"
)

// ParseFast is Parse for the notifications its one-pass decoder takes,
// which are nearly all: handled is false when it leaves the body to Parse
// (see decodeFast). Unlike encoding/json, it needs little stack, so it
// can run on a request's goroutine.
func ParseFast(body []byte) (e event.Event, handled bool, err error) {
	var n notification
	if !decodeFast(body, &n) {
		return event.Event{}, false, nil
	}
	e, err = notificationEvent(n)
	return e, true, err
}

// decodeFast decodes body into n in one pass, without reflection, when
// body is valid UTF-8, valid JSON and a notification as encoding/json
// would decode it without a doubt: every key of the objects it decodes is
// one of their fields spelt exactly so, or matches none of them in any
// case; each field comes once and has the JSON type its Go type takes (or
// null); arrays of objects hold no null. Values of other keys are checked
// as JSON and skipped. Every key in the body is ASCII without escapes, and
// none repeats another of its object in any case (encoding/json's refusal
// of a duplicate, see event.CheckDuplicateKeys, is then a plain
// case-insensitive comparison). It says false for anything else, and
// Parse (encoding/json) decides, with its exact error.
//
// FuzzFastPath holds it to encoding/json's result for every body it takes.
func decodeFast(body []byte, n *notification) bool {
	if !utf8.Valid(body) {
		return false
	}
	var keys [48]keyRef
	d := decoder{b: body, keys: keys[:0]}
	d.space()
	if !d.object(func(f int) bool {
		switch f {
		case 0:
			return d.pointer(func() bool { n.Page = new(page); return d.page(n.Page) })
		case 1:
			return d.pointer(func() bool { n.Incident = new(incident); return d.incident(n.Incident) })
		case 2:
			return d.pointer(func() bool { n.ComponentUpdate = new(componentUpdate); return d.componentUpdate(n.ComponentUpdate) })
		default:
			return d.pointer(func() bool { n.Component = new(component); return d.component(n.Component) })
		}
	}, "page", "incident", "component_update", "component") {
		return false
	}
	d.space()
	return d.i == len(body)
}

// maxSkipDepth is how deep a skipped value may nest before the body is
// left to encoding/json (whose own limit is far deeper).
const maxSkipDepth = 32

// decoder walks one body. Every method says false when the body is not
// one it decodes without a doubt; the walk then stops.
type decoder struct {
	b []byte
	i int
	// keys are the keys of the objects open, for the duplicate check.
	keys []keyRef
}

// keyRef is an object's key: its case-folded hash, and where it is in the
// body.
type keyRef struct {
	hash     uint32
	from, to int32
}

// key reads the object key at d.i. It says false for a key with an
// escape or a non-ASCII byte, and for one that repeats, in any case, a
// key of the object whose keys start at d.keys[first].
func (d *decoder) key(first int) ([]byte, bool) {
	from := d.i + 1
	key, plain, ok := d.str()
	if !ok || !plain {
		return nil, false
	}
	h := uint32(2166136261)
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return nil, false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		h = (h ^ uint32(c)) * 16777619
	}
	for _, k := range d.keys[first:] {
		if k.hash == h && bytes.EqualFold(d.b[k.from:k.to], key) {
			return nil, false
		}
	}
	d.keys = append(d.keys, keyRef{hash: h, from: int32(from), to: int32(from + len(key))})
	return key, true
}

func (d *decoder) page(p *page) bool {
	return d.object(func(int) bool { return d.string(&p.ID) }, "id")
}

func (d *decoder) component(c *component) bool {
	return d.object(func(f int) bool {
		if f == 0 {
			return d.string(&c.ID)
		}
		return d.string(&c.PageID)
	}, "id", "page_id")
}

func (d *decoder) componentUpdate(u *componentUpdate) bool {
	return d.object(func(f int) bool {
		return d.string([]*string{&u.ID, &u.ComponentID, &u.CreatedAt, &u.NewStatus}[f])
	}, "id", "component_id", "created_at", "new_status")
}

func (d *decoder) incident(in *incident) bool {
	return d.object(func(f int) bool {
		switch f {
		case 5:
			return d.array(func() bool {
				in.IncidentUpdates = append(in.IncidentUpdates, incidentUpdate{})
				return d.incidentUpdate(&in.IncidentUpdates[len(in.IncidentUpdates)-1])
			}, func() { in.IncidentUpdates = []incidentUpdate{} })
		case 6:
			return d.array(func() bool {
				in.Components = append(in.Components, component{})
				return d.component(&in.Components[len(in.Components)-1])
			}, func() { in.Components = []component{} })
		default:
			return d.string([]*string{&in.ID, &in.PageID, &in.Status, &in.UpdatedAt, &in.ScheduledFor}[f])
		}
	}, "id", "page_id", "status", "updated_at", "scheduled_for", "incident_updates", "components")
}

func (d *decoder) incidentUpdate(u *incidentUpdate) bool {
	return d.object(func(f int) bool {
		if f == 3 {
			return d.array(func() bool {
				u.AffectedComponents = append(u.AffectedComponents, affectedComponent{})
				c := &u.AffectedComponents[len(u.AffectedComponents)-1]
				return d.object(func(int) bool { return d.string(&c.Code) }, "code")
			}, func() { u.AffectedComponents = []affectedComponent{} })
		}
		return d.string([]*string{&u.ID, &u.CreatedAt, &u.UpdatedAt}[f])
	}, "id", "created_at", "updated_at", "affected_components")
}

// object walks the object at d.i, calling field with the index in names
// of each key that is one of them (at most once each, its value next);
// the values of other keys are skipped.
func (d *decoder) object(field func(f int) bool, names ...string) bool {
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return true
	}
	first := len(d.keys)
	var seen uint32
	for {
		key, ok := d.key(first)
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		f := match(key, names)
		switch {
		case f == -2:
			return false // another case of a field: encoding/json's to match
		case f == -1:
			if !d.skip(0) {
				return false
			}
		case seen&(1<<f) != 0:
			return false
		default:
			seen |= 1 << f
			if !field(f) {
				return false
			}
		}
		d.space()
		if d.byte('}') {
			d.keys = d.keys[:first]
			return true
		}
		if !d.byte(',') {
			return false
		}
		d.space()
	}
}

// match is key's index in names, -1 for a key that matches none in any
// case, or -2 for one that matches one only in another case.
func match(key []byte, names []string) int {
	for f, name := range names {
		if string(key) == name {
			return f
		}
	}
	for _, name := range names {
		if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
			return -2
		}
	}
	return -1
}

// array walks the array at d.i, calling elem for each element (an object:
// null elements are left to encoding/json), or empty for [].
// null leaves the field nil.
func (d *decoder) array(elem func() bool, empty func()) bool {
	if d.null() {
		return true
	}
	if !d.byte('[') {
		return false
	}
	d.space()
	if d.byte(']') {
		empty()
		return true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '{' || !elem() {
			return false
		}
		d.space()
		if d.byte(']') {
			return true
		}
		if !d.byte(',') {
			return false
		}
		d.space()
	}
}

// pointer decodes into a pointer field: null leaves it nil, an object is
// decoded by obj.
func (d *decoder) pointer(obj func() bool) bool {
	if d.null() {
		return true
	}
	return d.i < len(d.b) && d.b[d.i] == '{' && obj()
}

// string decodes a string field: null leaves it as it is.
func (d *decoder) string(s *string) bool {
	if d.null() {
		return true
	}
	start := d.i
	v, plain, ok := d.str()
	if !ok {
		return false
	}
	if plain {
		*s = string(v)
		return true
	}
	// An escape: encoding/json unquotes the one string, for its exact
	// handling of surrogates and the like.
	return json.Unmarshal(d.b[start:d.i], s) == nil
}

// str reads the JSON string at d.i and returns its raw content, whether
// it has no escape, and whether it is a valid JSON string.
func (d *decoder) str() (raw []byte, plain, ok bool) {
	if !d.byte('"') {
		return nil, false, false
	}
	start, plain := d.i, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			if !d.escape() {
				return nil, false, false
			}
			continue
		}
		d.i++
	}
	return nil, false, false
}

// escape checks the escape at d.i (a backslash) and steps over it.
func (d *decoder) escape() bool {
	if d.i+1 >= len(d.b) {
		return false
	}
	switch d.b[d.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		d.i += 2
		return true
	case 'u':
		if d.i+6 > len(d.b) {
			return false
		}
		for _, h := range d.b[d.i+2 : d.i+6] {
			if !isHex(h) {
				return false
			}
		}
		d.i += 6
		return true
	}
	return false
}

// skip checks the JSON value at d.i and steps over it.
func (d *decoder) skip(depth int) bool {
	if d.i >= len(d.b) || depth > maxSkipDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, _, ok := d.str()
		return ok
	case c == '{':
		d.i++
		d.space()
		if d.byte('}') {
			return true
		}
		first := len(d.keys)
		for {
			if _, ok := d.key(first); !ok {
				return false
			}
			d.space()
			if !d.byte(':') {
				return false
			}
			d.space()
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.byte('}') {
				d.keys = d.keys[:first]
				return true
			}
			if !d.byte(',') {
				return false
			}
			d.space()
		}
	case c == '[':
		d.i++
		d.space()
		if d.byte(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.byte(']') {
				return true
			}
			if !d.byte(',') {
				return false
			}
			d.space()
		}
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	default:
		return d.literal("true") || d.literal("false") || d.null()
	}
}

// number steps over the JSON number at d.i (RFC 8259's grammar).
func (d *decoder) number() bool {
	d.byte('-')
	switch {
	case d.byte('0'):
	case d.digits() > 0:
	default:
		return false
	}
	if d.byte('.') && d.digits() == 0 {
		return false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if d.digits() == 0 {
			return false
		}
	}
	// The number must end there: "01" or "1x" is not JSON.
	return d.i == len(d.b) || !isDigit(d.b[d.i]) && !isLetter(d.b[d.i])
}

// digits steps over a run of decimal digits and returns its length.
func (d *decoder) digits() int {
	start := d.i
	for d.i < len(d.b) && isDigit(d.b[d.i]) {
		d.i++
	}
	return d.i - start
}

// null steps over a null at d.i, if there is one.
func (d *decoder) null() bool { return d.literal("null") }

// literal steps over word at d.i, if it is there and ends there.
func (d *decoder) literal(word string) bool {
	if !bytes.HasPrefix(d.b[d.i:], []byte(word)) {
		return false
	}
	end := d.i + len(word)
	if end < len(d.b) && (isLetter(d.b[end]) || isDigit(d.b[end])) {
		return false
	}
	d.i = end
	return true
}

// byte steps over c at d.i, if it is there.
func (d *decoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// space steps over JSON whitespace.
func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isHex(c byte) bool    { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }
