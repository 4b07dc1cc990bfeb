package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository's root: this package is three levels down.
func repoRoot(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "deploy", "kubernetes", "kustomization.yaml")); err != nil {
		t.Fatalf("not the repository's root: %s: %v", abs, err)
	}
	return abs
}

func readRepo(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kinds maps each kind the base uses to its apiVersion and API type.
var kinds = map[string]struct {
	apiVersion string
	new        func() any
}{
	"ServiceAccount":          {"v1", func() any { return &corev1.ServiceAccount{} }},
	"ConfigMap":               {"v1", func() any { return &corev1.ConfigMap{} }},
	"Secret":                  {"v1", func() any { return &corev1.Secret{} }},
	"Service":                 {"v1", func() any { return &corev1.Service{} }},
	"Deployment":              {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"PodDisruptionBudget":     {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"HorizontalPodAutoscaler": {"autoscaling/v2", func() any { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	"ServiceMonitor":          {"monitoring.coreos.com/v1", func() any { return &monitoringv1.ServiceMonitor{} }},
	"PrometheusRule":          {"monitoring.coreos.com/v1", func() any { return &monitoringv1.PrometheusRule{} }},
}

// decode decodes one manifest strictly into its API type: an unknown or
// duplicate field and a wrong type fail (sigs.k8s.io/yaml, as kubectl
// reads YAML, with unknown fields disallowed), and so does a field the
// API requires but the manifest lacks (missingRequired).
func decode(doc []byte) (any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	k, ok := kinds[head.Kind]
	if !ok {
		return nil, fmt.Errorf("kind %q: not one this base is checked for", head.Kind)
	}
	if head.APIVersion != k.apiVersion {
		return nil, fmt.Errorf("%s: apiVersion %q, want %q", head.Kind, head.APIVersion, k.apiVersion)
	}
	obj := k.new()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", head.Kind, err)
	}
	var generic any
	if err := yaml.Unmarshal(doc, &generic); err != nil {
		return nil, err
	}
	if missing := missingRequired(reflect.TypeOf(obj), generic, head.Kind); len(missing) > 0 {
		return nil, fmt.Errorf("required fields missing: %s", strings.Join(missing, ", "))
	}
	if err := checkMeta(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", head.Kind, err)
	}
	return obj, nil
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// missingRequired lists the fields the API types mark required (a JSON
// tag without omitempty or omitzero, which is how k8s.io/api spells
// +required) that v, the same document decoded generically, lacks.
// Types that decode themselves (Quantity, IntOrString, Time) are leaves.
func missingRequired(typ reflect.Type, v any, at string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Implements(jsonUnmarshaler) || reflect.PointerTo(typ).Implements(jsonUnmarshaler) {
		return nil
	}
	var out []string
	switch typ.Kind() {
	case reflect.Struct:
		if m, ok := v.(map[string]any); ok {
			out = append(out, missingFields(typ, m, at)...)
		}
	case reflect.Slice:
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				out = append(out, missingRequired(typ.Elem(), e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				out = append(out, missingRequired(typ.Elem(), e, at+"."+k)...)
			}
		}
	}
	return out
}

func missingFields(typ reflect.Type, m map[string]any, at string) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" { // embedded and inlined: its fields are this object's
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, missingFields(ft, m, at)...)
			}
			continue
		}
		v, present := m[name]
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		if !present {
			if !optional {
				out = append(out, at+"."+name)
			}
			continue
		}
		out = append(out, missingRequired(f.Type, v, at+"."+name)...)
	}
	return out
}

// checkMeta applies the API server's rules for names and labels.
func checkMeta(obj any) error {
	meta := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta")
	name := meta.FieldByName("Name").String()
	if name == "" {
		return fmt.Errorf("no metadata.name")
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("metadata.name %q: %s", name, strings.Join(errs, "; "))
	}
	for k, v := range meta.FieldByName("Labels").Interface().(map[string]string) {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return fmt.Errorf("label %s=%s: %s", k, v, strings.Join(errs, "; "))
		}
	}
	return nil
}

// splitDocs splits a YAML stream into its documents.
func splitDocs(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), stream...), []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(d []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(d, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
