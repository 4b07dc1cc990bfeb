package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
)

// FuzzTemplate: Compile never panics and accepts only balanced templates of
// known variables; Render is exactly substitution, fails exactly when a used
// variable is empty, and adds no brace or control character that the
// values did not bring.
func FuzzTemplate(f *testing.F) {
	for _, s := range append(slices.Concat(builtinPaths[:]...),
		"{page_id}.status.example.com", "page:{page_id}", "statuspage:{page_id}:incident:{incident_id}",
		"/uptime/{component_id}", "{host}/{page_id}", "{", "}", "{}", "{{page_id}}", "{page_id", "a{b}c", "") {
		f.Add(s, "p0", "inc1", "c1", "p0.status.example.com")
	}
	f.Add("/x/{incident_id}", "p0", "", "c1", "h")
	f.Add("{page_id}", "p{0}", "i\x00", "c\n", "h")
	all := []string{VarPageID, VarIncidentID, VarComponentID, VarHost}
	f.Fuzz(func(t *testing.T, tmpl, pageID, incidentID, componentID, host string) {
		tp, err := Compile(tmpl, all...)
		if err != nil {
			// The message quotes the template (from the operator's config)
			// twice, %q-escaped once: bounded by its length, never more.
			if len(err.Error()) > 128+6*len(tmpl) {
				t.Fatalf("error message too long: %q", err)
			}
			return
		}
		if tp.String() != tmpl {
			t.Fatalf("String() = %q, want %q", tp.String(), tmpl)
		}
		vars := Vars{PageID: pageID, IncidentID: incidentID, ComponentID: componentID, Host: host}
		want, wantOK := tmpl, true
		for _, name := range all {
			uses := strings.Contains(tmpl, "{"+name+"}")
			if tp.Uses(name) != uses {
				t.Fatalf("Uses(%s) = %v, want %v", name, tp.Uses(name), uses)
			}
			if uses && vars.get(name) == "" {
				wantOK = false
			}
			want = strings.ReplaceAll(want, "{"+name+"}", vars.get(name))
		}
		got, ok := tp.Render(vars)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("Render = %q, %v; want %q, %v", got, ok, want, wantOK)
		}
		if ok && strings.ContainsAny(got, "{}") && !strings.ContainsAny(pageID+incidentID+componentID+host, "{}") {
			t.Fatalf("rendered %q has a brace no value brought", got)
		}
	})
}

// FuzzPlan: for any event the parsers would accept, the planner never
// panics, fails only with a 400 or 422 error, and gives a sorted,
// deduplicated plan of valid URLs, tags and keys within the ceiling, with no
// brace or control character in a URL or tag.
func FuzzPlan(f *testing.F) {
	f.Add("incident.updated", "p0", "inc1", "c1", "c2", "https://p0.status.example.com/custom", "custom-tag", "statuspage:p0:custom")
	f.Add("component.updated", "p9", "", "c1", "c1", "", "", "")
	f.Add("maintenance.started", "P0", "m.1", "a:b", "", "http://h.example/?q=1", "t", "{p0}:k")
	f.Add("page.updated", "x-", "-", ".", "_", "", "", "")
	f.Add("page.updated", strings.Repeat("a", 64), strings.Repeat("i", 128), "c", "", "", "", "")
	cfg := twoHostConfig()
	cfg.MaxURLs = 60
	cfg.Defaults = &config.PageRule{
		Hosts: []string{"{page_id}.status.example.com", "{page_id}.custom.test"},
		Tags:  []string{"page:{page_id}", "incident:{incident_id}", "component:{component_id}"},
		Keys:  []string{"statuspage:{page_id}:incident:{incident_id}", "sp:{page_id}:c:{component_id}"},
	}
	p, err := New(cfg, fakeRegistry{hosts: map[string][]string{"reg": {"status.reg.test"}}}, discard)
	if err != nil {
		f.Fatal(err)
	}
	nonEmpty := func(s ...string) []string {
		var out []string
		for _, v := range s {
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	f.Fuzz(func(t *testing.T, typ, pageID, incidentID, c1, c2, url, tag, key string) {
		ev := event.Event{
			ID: "msg_1", Source: event.SourceHook, Type: event.Type(typ),
			PageID: pageID, IncidentID: incidentID, ComponentIDs: nonEmpty(c1, c2),
			URLs: nonEmpty(url), Tags: nonEmpty(tag), Keys: nonEmpty(key),
		}
		if ev.Validate() != nil {
			return // refused with a 400 before planning
		}
		out, err := p.Plan(context.Background(), ev)
		var fe *event.FieldError
		var tooLarge *TooLargeError
		switch {
		case errors.As(err, &fe), errors.As(err, &tooLarge):
			return
		case err != nil:
			t.Fatalf("Plan error %v (%T) would be a 5xx", err, err)
		}
		if len(out.URLs) > cfg.MaxURLs || out.Page != pageID {
			t.Fatalf("plan has %d URLs for page %q", len(out.URLs), out.Page)
		}
		for name, list := range map[string][]string{"urls": out.URLs, "tags": out.Tags, "keys": out.Keys, "key_sets": out.KeySets} {
			if !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
				t.Fatalf("%s not sorted and deduplicated: %q", name, list)
			}
		}
		for i, u := range out.URLs {
			if err := event.ValidateURL("urls", u); err != nil || strings.ContainsAny(u, "{}") {
				t.Fatalf("urls[%d] = %q: %v", i, u, err)
			}
		}
		for i, s := range out.Tags {
			if err := event.ValidateTag("tags", s); err != nil {
				t.Fatalf("tags[%d] = %q: %v", i, s, err)
			}
		}
		for i, s := range append(slices.Clone(out.Keys), out.KeySets...) {
			if err := event.ValidateKey("keys", s); err != nil {
				t.Fatalf("keys[%d] = %q: %v", i, s, err)
			}
		}
	})
}
