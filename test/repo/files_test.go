package repo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// maxTrackedBytes is the largest file git may track: 1 MB. The same limit
// is scripts/check-large-files.sh's default (TestLargeFileScript pins it).
const maxTrackedBytes = 1_000_000

func TestNoLargeTrackedFiles(t *testing.T) {
	files := gitFiles(t)
	for _, f := range files {
		st, err := os.Lstat(filepath.Join(root(t), filepath.FromSlash(f)))
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, a symlink or a submodule
		}
		if st.Size() > maxTrackedBytes {
			t.Errorf("%s is tracked and %d bytes, over %d: remove it from git (git rm --cached) and ignore it", f, st.Size(), maxTrackedBytes)
		}
	}
}

// TestLargeFileScript runs scripts/check-large-files.sh in a scratch git
// repository: it passes at exactly the limit, and fails one byte over it,
// naming the file.
func TestLargeFileScript(t *testing.T) {
	git := needTool(t, "git")
	needTool(t, "bash")
	script := filepath.Join(root(t), "scripts", "check-large-files.sh")
	dir := t.TempDir()
	env := cleanEnv("MAX_BYTES=")
	run(t, dir, env, git, "init", "-q")
	write := func(name string, size int) {
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{'x'}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, dir, env, git, "add", name)
	}
	check := func() (bool, string) {
		cmd := exec.Command("bash", script)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	}
	write("small.txt", 10)
	write("at-the-limit.bin", maxTrackedBytes)
	if ok, out := check(); !ok {
		t.Fatalf("the script fails on files at most %d bytes:\n%s", maxTrackedBytes, out)
	}
	write("one byte over.bin", maxTrackedBytes+1)
	ok, out := check()
	if ok || !strings.Contains(out, "one byte over.bin") || strings.Contains(out, "at-the-limit.bin") {
		t.Errorf("with a tracked file of %d bytes the script passed=%v and said:\n%s\nwant a failure naming that file only", maxTrackedBytes+1, ok, out)
	}
}

// TestCIChecksLargeFilesBeforeTheTests: .ci/run calls the script before
// make test.
func TestCIChecksLargeFilesBeforeTheTests(t *testing.T) {
	var cmds []string
	for _, l := range strings.Split(read(t, ".ci/run"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			cmds = append(cmds, l)
		}
	}
	script := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "scripts/check-large-files.sh") })
	test := slices.Index(cmds, "make test")
	if script < 0 || test < 0 || script > test {
		t.Errorf(".ci/run must run scripts/check-large-files.sh before make test; its commands are %q", cmds)
	}
	if st, err := os.Stat(filepath.Join(root(t), "scripts", "check-large-files.sh")); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("scripts/check-large-files.sh is missing or not executable (%v)", err)
	}
}

// TestGoModHasNoReplace: `go install github.com/edgepurge/edgepurge/cmd/edgepurge@…`
// refuses a main module with replace directives.
func TestGoModHasNoReplace(t *testing.T) {
	for i, l := range strings.Split(read(t, "go.mod"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "replace" || f[0] == "replace(") {
			t.Errorf("go.mod:%d: %s (go install …@version refuses replace directives)", i+1, l)
		}
	}
	if !strings.HasPrefix(read(t, "go.mod"), "module github.com/edgepurge/edgepurge\n") {
		t.Error("go.mod's module path is not github.com/edgepurge/edgepurge")
	}
}

// TestReadmeCommands: the README's two commands are Makefile targets, and
// make help lists every target of the Makefile.
func TestReadmeCommands(t *testing.T) {
	readme := read(t, "README.md")
	for _, c := range []string{"make run", "make test"} {
		if !strings.Contains(readme, c) {
			t.Errorf("README.md does not give the command %q", c)
		}
	}
	targets := regexp.MustCompile(`(?m)^([a-z][a-z0-9_-]*):`).FindAllStringSubmatch(read(t, "Makefile"), -1)
	mk := needTool(t, "make")
	help := run(t, root(t), cleanEnv(), mk, "--no-print-directory", "help")
	if bare := run(t, root(t), cleanEnv(), mk, "--no-print-directory", "-n"); bare != run(t, root(t), cleanEnv(), mk, "--no-print-directory", "-n", "help") {
		t.Errorf("make without a target does not run make help")
	}
	var names []string
	for _, m := range targets {
		names = append(names, m[1])
		if !regexp.MustCompile(`(?m)^\s*make ` + regexp.QuoteMeta(m[1]) + `\s`).MatchString(help) {
			t.Errorf("make help does not list the target %s:\n%s", m[1], help)
		}
	}
	for _, must := range []string{"run", "test", "help", "build", "sample", "bench"} {
		if !slices.Contains(names, must) {
			t.Errorf("the Makefile has no target %s", must)
		}
	}
}

// TestEveryLayerRunsTheIntegrationLayer: the targets CI runs set
// EDGEPURGE_INTEGRATION=1 on every go test they run, so that no test of
// theirs is skipped as "unit layer only" (the container test's run of the
// image was, once).
func TestEveryLayerRunsTheIntegrationLayer(t *testing.T) {
	mk := read(t, "Makefile")
	for _, target := range []string{"test", "test-container"} {
		i := strings.Index(mk, "\n"+target+":")
		if i < 0 {
			t.Fatalf("the Makefile has no %s target", target)
		}
		for _, l := range strings.Split(mk[i+1:], "\n")[1:] {
			if !strings.HasPrefix(l, "\t") {
				break
			}
			if strings.Contains(l, "go test") && !strings.Contains(l, "EDGEPURGE_INTEGRATION=1") {
				t.Errorf("make %s runs go test without EDGEPURGE_INTEGRATION=1: %s", target, strings.TrimSpace(l))
			}
		}
	}
}
