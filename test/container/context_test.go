package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// checkContext shows what Docker itself lets into the build context: a
// probe image whose only step is `COPY . /context/` is built from a copy
// of the tracked files plus decoys that must stay out (history, build
// outputs, profiles, local secrets), and its files are listed. Docker's
// own .dockerignore matching, not a re-implementation of it.
func checkContext(t *testing.T, base, label string) {
	root := proc.Root(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	ctx := t.TempDir()
	write := func(rel string, body []byte, mode os.FileMode) {
		dst := filepath.Join(ctx, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, body, mode); err != nil {
			t.Fatal(err)
		}
	}
	var needed []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		body, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		write(f, body, st.Mode().Perm())
		if f == "go.mod" || f == "go.sum" || (strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go")) {
			needed = append(needed, f)
		}
	}
	decoys := []string{
		".git/HEAD", ".env", ".env.local", "deploy/.env",
		"bin/edgepurge", "edgepurge", "edgepurge-bench", "dist/edgepurge.tar.gz", "purge/x.test",
		"internal/app/cpu.out", "cmd/edgepurge/mem.pprof", "artifacts/run.log", "test/e2e/artifacts/shot.png",
	}
	for _, d := range decoys {
		write(d, []byte("decoy\n"), 0o644)
	}
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM "+base+"\nCOPY . /context/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := strings.TrimPrefix(label, runLabel+"=")
	tag := "edgepurge-test/context:" + run
	docker(t, "build", "--network", "none", "-q", "-f", dockerfile, "-t", tag, ctx)
	defer dockerErr(nil, "rmi", "-f", tag)
	name := "edgepurge-test-context-" + run
	docker(t, "create", "--name", name, "--label", label, tag, "never-run")
	defer removeContainer(t, name)
	exported, err := exec.Command("docker", "export", name).Output()
	if err != nil {
		t.Fatalf("docker export: %v", err)
	}
	var in []string
	tr := tar.NewReader(bytes.NewReader(exported))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if rel, ok := strings.CutPrefix(p, "context/"); ok && h.Typeflag != tar.TypeDir {
			in = append(in, rel)
		}
	}
	for _, d := range decoys {
		if slices.Contains(in, d) {
			t.Errorf(".dockerignore lets %s into the build context", d)
		}
	}
	for _, f := range needed {
		if !slices.Contains(in, f) {
			t.Errorf(".dockerignore keeps %s, which the build needs, out of the build context", f)
		}
	}
	t.Logf("build context: %d files, the %d the build needs among them, none of the %d decoys", len(in), len(needed), len(decoys))
}
