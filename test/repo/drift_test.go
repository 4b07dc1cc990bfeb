package repo

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/chain"
)

var metricName = regexp.MustCompile(`^edgepurge_[a-z0-9_]+$`)

// TestMetricsDocumented: every metric of internal/metrics has a row in
// docs/operations.md's metrics table, and the table names no other.
func TestMetricsDocumented(t *testing.T) {
	var names []string
	for _, s := range goStrings(t, "internal/metrics") {
		if metricName.MatchString(s) && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	if len(names) < 20 {
		t.Fatalf("found only %d metric names in internal/metrics: %v", len(names), names)
	}
	cells := firstCells(section(t, read(t, "docs/operations.md"), "Metrics"))
	for _, n := range names {
		if !slices.Contains(cells, n) {
			t.Errorf("docs/operations.md's metrics table has no row for %s", n)
		}
	}
	for _, c := range cells {
		if !slices.Contains(names, c) {
			t.Errorf("docs/operations.md documents the metric %s, which internal/metrics does not define", c)
		}
	}
}

// TestAnswerFieldsDocumented: every JSON field of the answer
// (chain.Answer and what it contains) is named in docs/api.md.
func TestAnswerFieldsDocumented(t *testing.T) {
	doc := section(t, read(t, "docs/api.md"), "The answer")
	seen := map[reflect.Type]bool{}
	var fields []string
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.Implements(timeType) {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if !slices.Contains(fields, name) {
				fields = append(fields, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[chain.Answer]())
	if len(fields) < 20 {
		t.Fatalf("found only %d fields in chain.Answer: %v", len(fields), fields)
	}
	for _, f := range fields {
		if !backticked(doc, f) {
			t.Errorf("docs/api.md, The answer, does not name the answer's field `%s`", f)
		}
	}
}
