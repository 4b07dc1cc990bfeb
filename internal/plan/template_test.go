package plan

import "testing"

func TestTemplateRender(t *testing.T) {
	tpl := MustCompile("statuspage:{page_id}:{incident_id}", VarPageID, VarIncidentID)
	if s, ok := tpl.Render(Vars{PageID: "p", IncidentID: "i"}); !ok || s != "statuspage:p:i" {
		t.Errorf("Render = %q, %v", s, ok)
	}
	if _, ok := tpl.Render(Vars{PageID: "p"}); ok {
		t.Error("a template whose variable is empty must not apply")
	}
	if s, ok := MustCompile("/plain").Render(Vars{}); !ok || s != "/plain" {
		t.Errorf("literal = %q, %v", s, ok)
	}
	for _, bad := range []string{"", "a}b", "{x}", "{page_id"} {
		if _, err := Compile(bad, VarPageID); err == nil {
			t.Errorf("Compile(%q) accepted", bad)
		}
	}
}

// MustCompile is Compile for a test's templates; it panics on error.
func MustCompile(s string, allowed ...string) Template {
	t, err := Compile(s, allowed...)
	if err != nil {
		panic(err)
	}
	return t
}
