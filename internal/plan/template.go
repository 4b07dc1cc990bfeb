package plan

import (
	"fmt"
	"strings"
)

// The variables a template may use.
const (
	VarPageID      = "page_id"
	VarIncidentID  = "incident_id"
	VarComponentID = "component_id"
	VarHost        = "host"
)

// Template is a compiled string with {variable} placeholders. It is compiled
// once at start so that rendering on the hot path is a few appends.
type Template struct {
	raw   string
	parts []part
	uses  map[string]bool
	// perComponent says the template uses {component_id}.
	perComponent bool
}

type part struct {
	lit string
	v   string // variable name; empty for a literal
}

// Vars are the values a template is rendered with; an empty value means
// unknown for this event.
type Vars struct {
	PageID, IncidentID, ComponentID, Host string
}

func (v Vars) get(name string) string {
	switch name {
	case VarPageID:
		return v.PageID
	case VarIncidentID:
		return v.IncidentID
	case VarComponentID:
		return v.ComponentID
	case VarHost:
		return v.Host
	}
	return ""
}

// Compile parses s. Only the variables in allowed may appear; a stray brace
// is an error, so a typo fails at start rather than at the first purge.
func Compile(s string, allowed ...string) (Template, error) {
	t := Template{raw: s, uses: map[string]bool{}}
	rest := s
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if rest[open] == '}' {
			return Template{}, fmt.Errorf("template %q: unmatched }", s)
		}
		if open > 0 {
			t.parts = append(t.parts, part{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("template %q: unclosed {", s)
		}
		name := rest[open+1 : open+end]
		if !contains(allowed, name) {
			return Template{}, fmt.Errorf("template %q: unknown variable {%s} (allowed: %s)", s, name, braced(allowed))
		}
		t.parts = append(t.parts, part{v: name})
		t.uses[name] = true
		t.perComponent = t.perComponent || name == VarComponentID
		rest = rest[open+end+1:]
	}
	if s == "" {
		return Template{}, fmt.Errorf("empty template")
	}
	return t, nil
}

// String returns the template's source.
func (t Template) String() string { return t.raw }

// Uses reports whether the template contains {name}.
func (t Template) Uses(name string) bool { return t.uses[name] }

// Render substitutes vars. It reports false when a variable the template
// uses has no value for this event: such a template does not apply.
func (t Template) Render(vars Vars) (string, bool) {
	var b strings.Builder
	if !t.writeTo(&b, vars) {
		return "", false
	}
	return b.String(), true
}

// writeTo writes the rendered template to b. It writes nothing and
// reports false when a variable the template uses has no value.
func (t *Template) writeTo(b *strings.Builder, vars Vars) bool {
	for _, p := range t.parts {
		if p.v != "" && vars.get(p.v) == "" {
			return false
		}
	}
	for _, p := range t.parts {
		if p.v == "" {
			b.WriteString(p.lit)
		} else {
			b.WriteString(vars.get(p.v))
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func braced(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, " ")
}
