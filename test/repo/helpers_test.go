package repo

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// binDir holds the binaries built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edgepurge-repo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// root is the repository's root: the nearest directory upwards with go.mod.
func root(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatal(rootErr)
	}
	return rootDir
}

// read returns a file of the repository, by slash-separated path.
func read(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// edgepurgeBin builds ./cmd/edgepurge once (go build) and returns its path.
func edgepurgeBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out := filepath.Join(binDir, "edgepurge")
		cmd := exec.Command(goTool(t), "build", "-o", out, "./cmd/edgepurge")
		cmd.Dir = root(t)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/edgepurge: %v\n%s", err, b)
			return
		}
		builtBin = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// goTool is the go command; go test puts GOROOT/bin first on PATH.
func goTool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not on PATH: %v", err)
	}
	return p
}

// needTool skips the test when a tool is not installed.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed: %v", name, err)
	}
	return p
}

// run runs a command in dir and returns its stdout; it fails the test on a
// non-zero exit.
func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// cleanEnv is the environment without what a parent make or git would pass
// down and change the child's output (make's "Entering directory", a git
// repository other than the one in dir).
func cleanEnv(extra ...string) []string {
	drop := []string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// gitFiles lists the tracked files (slash-separated, relative to the
// root); the test is skipped outside a git checkout.
func gitFiles(t testing.TB) []string {
	t.Helper()
	git := needTool(t, "git")
	cmd := exec.Command(git, "ls-files", "-z")
	cmd.Dir = root(t)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout (git ls-files: %v)", err)
	}
	var files []string
	for f := range strings.SplitSeq(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

// goStrings returns the string literals of the non-test Go files of a
// package directory (relative to the root).
func goStrings(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root(t), filepath.FromSlash(dir), "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	if len(paths) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out
}

// backticked reports whether doc mentions s as inline code, `s`.
func backticked(doc, s string) bool {
	return strings.Contains(doc, "`"+s+"`")
}

// section returns the part of a Markdown document from the heading that
// starts with heading up to the next heading of the same or a higher level.
func section(t testing.TB, doc, heading string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	start, level := -1, 0
	for i, l := range lines {
		if start < 0 {
			if strings.HasPrefix(l, "#") && strings.HasPrefix(strings.TrimLeft(l, "# "), heading) {
				start, level = i, len(l)-len(strings.TrimLeft(l, "#"))
			}
			continue
		}
		if h := len(l) - len(strings.TrimLeft(l, "#")); h > 0 && h <= level && strings.HasPrefix(l[h:], " ") {
			return strings.Join(lines[start:i], "\n")
		}
	}
	if start < 0 {
		t.Fatalf("no heading %q", heading)
	}
	return strings.Join(lines[start:], "\n")
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// firstCells returns the inline-code spans of the first cell of every
// table row of a Markdown text (the header and separator rows excluded).
func firstCells(md string) []string {
	var out []string
	for _, l := range strings.Split(md, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") || strings.HasPrefix(l, "| ---") {
			continue
		}
		cells := strings.Split(l, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(cells[1], -1) {
			out = append(out, m[1])
		}
	}
	return out
}
