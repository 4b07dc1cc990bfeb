package repo

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/edgepurge/edgepurge/internal/config"
)

// The docs and the example config are checked against the code:
// docs/configuration.md must name every key of config.Config and every
// environment variable the code reads, and name no key or variable the code
// does not have; examples/edgepurge.yaml must load with the real strict
// loader and use only keys of config.Config.

const (
	configDoc     = "docs/configuration.md"
	exampleConfig = "examples/edgepurge.yaml"
	// mapKey stands for the key of a map (a page id) in a key path.
	mapKey = "<id>"
)

var timeType = reflect.TypeFor[interface{ Unix() int64 }]()

// configKeys walks config.Config's yaml tags and returns every key path
// (e.g. "server.purge_timeout", "pages.<id>.verify.edge"): leaves, and the
// set of every path including intermediate ones.
func configKeys(t testing.TB) (leaves []string, all map[string]bool) {
	t.Helper()
	all = map[string]bool{}
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch {
		case typ.Kind() == reflect.Struct && !typ.Implements(timeType):
			for f := range typ.Fields() {
				if !f.IsExported() {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if name == "-" {
					continue
				}
				if name == "" {
					t.Errorf("config field %s.%s has no yaml tag", typ.Name(), f.Name)
					continue
				}
				path := name
				if prefix != "" {
					path = prefix + "." + name
				}
				all[path] = true
				walk(f.Type, path)
			}
			return
		case typ.Kind() == reflect.Map && isStructLike(typ.Elem()):
			path := prefix + "." + mapKey
			all[path] = true
			walk(typ.Elem(), path)
			return
		case typ.Kind() == reflect.Slice && isStructLike(typ.Elem()):
			walk(typ.Elem(), prefix)
			return
		}
		leaves = append(leaves, prefix)
	}
	walk(reflect.TypeFor[config.Config](), "")
	sort.Strings(leaves)
	return leaves, all
}

func isStructLike(typ reflect.Type) bool {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	return typ.Kind() == reflect.Struct && !typ.Implements(timeType)
}

func TestConfigDocsCoverEveryKey(t *testing.T) {
	leaves, all := configKeys(t)
	if len(leaves) < 50 {
		t.Fatalf("found only %d config keys; is the walk broken? %v", len(leaves), leaves)
	}
	// Every key has a row of its own in the key tables (its first cell).
	cells := firstCells(section(t, read(t, configDoc), "Keys"))
	for _, k := range leaves {
		if !slices.Contains(cells, k) {
			t.Errorf("%s has no row for the config key `%s`", configDoc, k)
		}
	}
	// And the key tables name no key the code does not have.
	for _, k := range cells {
		if !all[k] {
			t.Errorf("%s documents `%s`, which is not a key of config.Config", configDoc, k)
		}
	}
}

var envName = regexp.MustCompile(`\b(?:EDGEPURGE|REDIS|CLOUDFLARE|FASTLY|AKAMAI|CLOUDFRONT)_[A-Z][A-Z_]*[A-Z]\b`)

// envVars are the environment variables named in the non-test Go code of
// internal/config and cmd/edgepurge (where EDGEPURGE_CONFIG, the CLI's
// token fallback and the profiling switch are read).
func envVars(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range []string{"internal/config", "cmd/edgepurge"} {
		for _, s := range goStrings(t, dir) {
			for _, m := range envName.FindAllString(s, -1) {
				seen[m] = true
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func TestConfigDocsCoverEveryEnvVar(t *testing.T) {
	vars := envVars(t)
	for _, must := range []string{"EDGEPURGE_LISTEN", "REDIS_URL", "CLOUDFLARE_API_TOKEN", "FASTLY_API_TOKEN", "EDGEPURGE_CONFIG"} {
		if !slices.Contains(vars, must) {
			t.Fatalf("the scan of the Go code found %v, without %s; is it broken?", vars, must)
		}
	}
	cells := firstCells(section(t, read(t, configDoc), "Environment variables"))
	for _, v := range vars {
		if !slices.Contains(cells, v) {
			t.Errorf("%s has no row for the environment variable `%s`", configDoc, v)
		}
	}
	for _, v := range cells {
		if !slices.Contains(vars, v) {
			t.Errorf("%s documents `%s`, which the code of internal/config and cmd/edgepurge never reads", configDoc, v)
		}
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// exampleEnv is a getenv giving a value to every ${VAR} of the example
// (and nothing else, so the developer's environment cannot change the
// outcome).
func exampleEnv(t testing.TB, raw string) config.Getenv {
	t.Helper()
	env := map[string]string{}
	for _, m := range envRef.FindAllStringSubmatch(raw, -1) {
		if m[2] == "" || m[2] == ":-" {
			env[m[1]] = "test-" + strings.ToLower(m[1])
		}
	}
	for k := range env {
		if strings.Contains(k, "WEBHOOK_SECRET") {
			env[k] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		}
	}
	return func(k string) string { return env[k] }
}

func TestExampleConfigLoads(t *testing.T) {
	path := filepath.Join(root(t), filepath.FromSlash(exampleConfig))
	raw := read(t, exampleConfig)
	cfg, err := config.Load(path, exampleEnv(t, raw))
	if err != nil {
		t.Fatalf("%s does not load: %v", exampleConfig, err)
	}
	if !cfg.Cloudflare.Enabled() || len(cfg.Pages) == 0 || cfg.Defaults == nil {
		t.Errorf("%s loaded, but without Cloudflare, pages or a default rule: %+v", exampleConfig, cfg)
	}
}

// The example's ${VAR}s are variables the code reads, so that setting
// what the docs and the Makefile name is what the example reads
// (EDGEPURGE_WEBHOOK_SECRETS, not a near miss); and a dry run of it needs
// no invented CDN credentials.
func TestExampleConfigReadsTheCodesVariables(t *testing.T) {
	vars := envVars(t)
	for _, f := range []string{exampleConfig, "docker-compose.yml"} {
		for _, m := range envRef.FindAllStringSubmatch(read(t, f), -1) {
			if m[1] != "VAR" && !slices.Contains(vars, m[1]) {
				t.Errorf("%s reads ${%s}, a variable internal/config and cmd/edgepurge never read; the documented ones are %v", f, m[1], vars)
			}
		}
	}
	raw := read(t, exampleConfig)
	required := map[string]string{"EDGEPURGE_DRY_RUN": "true"}
	for _, m := range envRef.FindAllStringSubmatch(raw, -1) {
		if m[2] == "" && m[1] != "VAR" {
			required[m[1]] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		}
	}
	for k := range required {
		if strings.HasPrefix(k, "CLOUDFLARE_") || strings.HasPrefix(k, "FASTLY_") {
			t.Errorf("%s needs ${%s} even for a dry run; give it a default (${%s:-})", exampleConfig, k, k)
		}
	}
	if _, err := config.Load(filepath.Join(root(t), filepath.FromSlash(exampleConfig)), func(k string) string { return required[k] }); err != nil {
		t.Errorf("%s does not load as a dry run with only %v set: %v", exampleConfig, slices.Sorted(maps.Keys(required)), err)
	}
}

// The variables the README, the docs, the example, the compose file and
// the Makefile name are ones some Go code reads: a near miss
// (EDGEPURGE_WEBHOOK_SECRET for EDGEPURGE_WEBHOOK_SECRETS) fails here. A
// test's environment map key does not count (one once set the near miss),
// its read does (the test gates the Makefile sets, the live suite's).
func TestDocsNameOnlyVariablesTheCodeReads(t *testing.T) {
	var code, tests strings.Builder
	err := filepath.WalkDir(root(t), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := os.ReadFile(p)
		if strings.HasSuffix(p, "_test.go") {
			tests.Write(b)
		} else {
			code.Write(b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(root(t), "docs", "*.md"))
	for i, d := range docs {
		docs[i], _ = filepath.Rel(root(t), d)
	}
	for _, f := range append(docs, "README.md", exampleConfig, "docker-compose.yml", "Makefile") {
		for _, v := range envName.FindAllString(read(t, filepath.ToSlash(f)), -1) {
			if !strings.Contains(code.String(), `"`+v+`"`) && !regexp.MustCompile(`"`+v+`"[^:]`).MatchString(tests.String()) {
				t.Errorf("%s names %s, which no Go code of the repository reads", f, v)
			}
		}
	}
}

func TestExampleConfigRefusesUnknownKeys(t *testing.T) {
	raw := read(t, exampleConfig)
	getenv := exampleEnv(t, raw)
	for name, bogus := range map[string]string{
		"top level": raw + "\nbogus_key: 1\n",
		"nested":    strings.Replace(raw, "\nserver:\n", "\nserver:\n  bogus_key: 1\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if bogus == raw {
				t.Fatal("could not add the bogus key")
			}
			path := filepath.Join(t.TempDir(), "edgepurge.yaml")
			if err := os.WriteFile(path, []byte(bogus), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(path, getenv)
			if err == nil || !strings.Contains(err.Error(), "bogus_key") {
				t.Errorf("a config with an unknown key loaded: err = %v, want an error naming bogus_key", err)
			}
		})
	}
}

func TestExampleConfigUsesOnlyKnownKeys(t *testing.T) {
	_, known := configKeys(t)
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(read(t, exampleConfig)), &doc); err != nil {
		t.Fatal(err)
	}
	var used []string
	var walk func(v any, prefix string)
	walk = func(v any, prefix string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, child := range m {
			if known[prefix+"."+mapKey] {
				k = mapKey
			}
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			used = append(used, path)
			walk(child, path)
		}
	}
	walk(doc, "")
	if len(used) < 20 {
		t.Fatalf("found only %d keys in %s: %v", len(used), exampleConfig, used)
	}
	for _, k := range used {
		if !known[k] {
			t.Errorf("%s uses `%s`, which is not a key of config.Config", exampleConfig, k)
		}
	}
}
