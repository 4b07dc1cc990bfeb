package chain

import (
	"reflect"
	"testing"

	"github.com/edgepurge/edgepurge/internal/plan"
)

// fill sets every field of v (a struct) to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Float64:
			f.SetFloat(1)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Struct:
			fill(t, f)
		default:
			t.Fatalf("fill: field %s of kind %s: teach the test this kind", v.Type().Field(i).Name, f.Kind())
		}
	}
}

// begin clears every field of a reused answer but the plan and id it
// sets: a field added to Answer and not to begin's list fails here.
func TestBeginClearsEveryField(t *testing.T) {
	var a Answer
	fill(t, reflect.ValueOf(&a).Elem())
	p := plan.Plan{Page: "p1", URLs: []string{"https://a.test/"}}
	a.begin("e1", &p)
	got := reflect.ValueOf(a)
	for i := range got.NumField() {
		name := got.Type().Field(i).Name
		switch name {
		case "ID":
			if a.ID != "e1" {
				t.Errorf("ID = %q", a.ID)
			}
		case "Plan":
			if !reflect.DeepEqual(a.Plan, p) {
				t.Errorf("Plan = %+v, want %+v", a.Plan, p)
			}
		default:
			if !got.Field(i).IsZero() {
				t.Errorf("begin left %s = %v; add it to begin's list", name, got.Field(i))
			}
		}
	}
	// A plan made in place in its answer is kept as it is.
	a.Plan.Page = "in place"
	a.begin("e2", &a.Plan)
	if a.Plan.Page != "in place" || a.ID != "e2" {
		t.Errorf("in place: %+v", a)
	}
}
