package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/edgepurge/edgepurge/purge"
)

// problems walks the YAML beside Config's type and names every unknown
// key and every value of the wrong type with its line and the form wanted:
// the decoder stops at the first problem and speaks in Go types.
func problems(raw []byte) []error {
	f, err := parser.ParseBytes(raw, 0)
	if err != nil {
		return nil
	}
	var errs []error
	var walk func(n ast.Node, t reflect.Type, path string)
	walk = func(n ast.Node, t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch x := n.(type) {
		case nil, *ast.NullNode, *ast.AliasNode:
			return
		case *ast.AnchorNode:
			walk(x.Value, t, path)
			return
		case *ast.TagNode:
			walk(x.Value, t, path)
			return
		}
		entries, isMap := mapEntries(n)
		switch {
		case t.Kind() == reflect.Struct && isMap:
			fields := map[string]reflect.Type{}
			for i := range t.NumField() {
				if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
					fields[name] = t.Field(i).Type
				}
			}
			for _, e := range entries {
				key := e.Key.GetToken().Value
				if ft, ok := fields[key]; ok {
					walk(e.Value, ft, join(path, key))
				} else if !e.Key.IsMergeKey() {
					errs = append(errs, fmt.Errorf("%s: line %d: unknown key%s", join(path, key), e.Key.GetToken().Position.Line, didYouMean(key, fields)))
				}
			}
		case t.Kind() == reflect.Map && isMap:
			for _, e := range entries {
				walk(e.Value, t.Elem(), join(path, e.Key.GetToken().Value))
			}
		default:
			if yaml.NodeToValue(n, reflect.New(t).Interface()) != nil {
				errs = append(errs, fmt.Errorf("%s: line %d: want %s, got %s", path, n.GetToken().Position.Line, wantForm(t), gotForm(n, t)))
			}
		}
	}
	for _, d := range f.Docs {
		walk(d.Body, reflect.TypeFor[Config](), "")
	}
	return errs
}

func mapEntries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch x := n.(type) {
	case *ast.MappingNode:
		return x.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{x}, true
	}
	return nil, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// wantForm says in plain words what a value of type t looks like.
func wantForm(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 10s"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number such as 100"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number such as 0.5"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Slice:
		return "a list such as [a, b]"
	}
	return "a mapping of keys"
}

// gotForm shows a wrong scalar, unless the key holds secrets.
func gotForm(n ast.Node, t reflect.Type) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	if t == reflect.TypeFor[purge.Secret]() || t == reflect.TypeFor[[]purge.Secret]() {
		return "one value (not shown: it may be a secret)"
	}
	return n.GetToken().Value
}

// didYouMean suggests the known key nearest to key, if any is near.
func didYouMean(key string, known map[string]reflect.Type) string {
	best, bestD := "", len(key)/2+1
	for k := range known {
		if d := distance(key, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := range len(a) {
		cur := []int{i + 1}
		for j := range len(b) {
			cost := 1
			if a[i] == b[j] {
				cost = 0
			}
			cur = append(cur, min(prev[j+1]+1, cur[j]+1, prev[j]+cost))
		}
		prev = cur
	}
	return prev[len(b)]
}
