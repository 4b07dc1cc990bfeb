package repo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
)

// There is no Docker engine on the machines these tests run on, so the
// image has never been built. These tests check what can be checked
// without one (docs/operations.md, Container, says so).

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd   string // upper case: FROM, RUN, ...
	args  string
	stage int // index of the FROM it belongs to
}

func dockerfile(t testing.TB) []instruction {
	t.Helper()
	var out []instruction
	stage := -1
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
	}
	for _, l := range strings.Split(read(t, "Dockerfile"), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment (or a parser directive), also inside a continuation
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if stage < 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return out
}

// finalStage returns the instructions of the Dockerfile's last stage.
func finalStage(t testing.TB) []instruction {
	t.Helper()
	ins := dockerfile(t)
	last := ins[len(ins)-1].stage
	var out []instruction
	for _, in := range ins {
		if in.stage == last {
			out = append(out, in)
		}
	}
	return out
}

// shellWords splits a command line the way sh would for plain words,
// single and double quotes, and backslash escapes (no expansion).
func shellWords(t testing.TB, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '\'':
			cur.WriteRune(r)
		case quote == '"' && r == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`, rs[i+1]):
			i++
			cur.WriteRune(rs[i])
		case quote == '"':
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// goBuild is a `go build` command line, normalized for comparison.
type goBuild struct {
	Env      []string // NAME=value set before the command
	Flags    []string // flags other than -o and -ldflags, sorted
	LDFlags  []string // -ldflags' words; "-X name=value" becomes "-X name"
	XValues  map[string]string
	Packages []string
	Output   string
	words    []string
}

var envAssign = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

func parseGoBuild(t testing.TB, line string) goBuild {
	t.Helper()
	words := shellWords(t, line)
	b := goBuild{XValues: map[string]string{}, words: words}
	i := 0
	for ; i < len(words) && envAssign.MatchString(words[i]); i++ {
		b.Env = append(b.Env, words[i])
	}
	if i+1 >= len(words) || path.Base(words[i]) != "go" || words[i+1] != "build" {
		t.Fatalf("not a go build command: %q", line)
	}
	valued := []string{"-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-p", "-pkgdir", "-buildmode", "-installsuffix", "-overlay", "-pgo"}
	for i += 2; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") {
			b.Packages = append(b.Packages, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.Replace(w, "--", "-", 1), "=")
		if slices.Contains(valued, name) && !hasValue {
			if i+1 >= len(words) {
				t.Fatalf("%s without a value in %q", name, line)
			}
			i++
			value = words[i]
		}
		switch name {
		case "-o":
			b.Output = value
		case "-ldflags":
			ld := strings.Fields(value)
			for j := 0; j < len(ld); j++ {
				if ld[j] == "-X" && j+1 < len(ld) {
					k, v, _ := strings.Cut(ld[j+1], "=")
					b.LDFlags = append(b.LDFlags, "-X "+k)
					b.XValues[k] = v
					j++
					continue
				}
				b.LDFlags = append(b.LDFlags, ld[j])
			}
		default:
			b.Flags = append(b.Flags, w)
		}
	}
	sort := func(s []string) { slices.Sort(s) }
	sort(b.Env)
	sort(b.Flags)
	sort(b.LDFlags)
	sort(b.Packages)
	return b
}

// dockerGoBuild is the Dockerfile's `go build` RUN line.
func dockerGoBuild(t testing.TB) goBuild {
	t.Helper()
	var found []string
	for _, in := range dockerfile(t) {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			found = append(found, in.args)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one RUN with go build in the Dockerfile, found %d: %q", len(found), found)
	}
	return parseGoBuild(t, found[0])
}

// makeGoBuild is `make build`'s go build, as `make -n build` prints it.
func makeGoBuild(t testing.TB) goBuild {
	t.Helper()
	mk := needTool(t, "make")
	out := run(t, root(t), cleanEnv(), mk, "--no-print-directory", "-n", "build")
	var found []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "go build") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one go build in `make -n build`, found %d:\n%s", len(found), out)
	}
	return parseGoBuild(t, found[0])
}

func TestDockerfileBuildMatchesMakeBuild(t *testing.T) {
	d, m := dockerGoBuild(t), makeGoBuild(t)
	for _, c := range []struct {
		what      string
		dock, mak []string
	}{
		{"environment", d.Env, m.Env},
		{"flags", d.Flags, m.Flags},
		{"-ldflags", d.LDFlags, m.LDFlags},
		{"packages", d.Packages, m.Packages},
	} {
		if !slices.Equal(c.dock, c.mak) {
			t.Errorf("the Dockerfile's go build %s %q differ from make build's %q", c.what, c.dock, c.mak)
		}
	}
	// What the product needs of both, so that they cannot drift together
	// into something else.
	want := goBuild{
		Env:      []string{"CGO_ENABLED=0"},
		Flags:    []string{"-trimpath"},
		LDFlags:  []string{"-X main.commit", "-X main.version", "-s", "-w"},
		Packages: []string{"./cmd/edgepurge"},
	}
	if !slices.Equal(m.Env, want.Env) || !slices.Equal(m.Flags, want.Flags) ||
		!slices.Equal(m.LDFlags, want.LDFlags) || !slices.Equal(m.Packages, want.Packages) {
		t.Errorf("make build runs %q\nwant CGO_ENABLED=0 go build -trimpath -ldflags '-s -w -X main.version=… -X main.commit=…' ./cmd/edgepurge", m.words)
	}
	// The Dockerfile's version and commit come from its build arguments.
	args := map[string]bool{}
	for _, in := range dockerfile(t) {
		if in.cmd == "ARG" {
			name, _, _ := strings.Cut(in.args, "=")
			args[name] = true
		}
	}
	for k, v := range d.XValues {
		m := regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`).FindStringSubmatch(v)
		if m == nil || !args[m[1]] {
			t.Errorf("the Dockerfile sets %s=%q; want a build argument (ARG) such as ${VERSION}", k, v)
		}
	}
}

// healthcheck returns the argv of the Dockerfile's HEALTHCHECK CMD.
func healthcheck(t testing.TB) []string {
	t.Helper()
	var hc []instruction
	for _, in := range finalStage(t) {
		if in.cmd == "HEALTHCHECK" {
			hc = append(hc, in)
		}
	}
	if len(hc) != 1 {
		t.Fatalf("want one HEALTHCHECK in the final stage, found %d", len(hc))
	}
	_, cmd, ok := strings.Cut(hc[0].args, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK without CMD: %q", hc[0].args)
	}
	cmd = strings.TrimSpace(cmd)
	var argv []string
	if strings.HasPrefix(cmd, "[") {
		if err := json.Unmarshal([]byte(cmd), &argv); err != nil {
			t.Fatalf("HEALTHCHECK CMD %s: %v", cmd, err)
		}
	} else {
		argv = shellWords(t, cmd)
	}
	if len(argv) < 2 {
		t.Fatalf("HEALTHCHECK CMD %q: want the binary and a subcommand", argv)
	}
	return argv
}

func TestDockerfileHealthcheckIsALivenessSubcommand(t *testing.T) {
	argv := healthcheck(t)
	if path.Base(argv[0]) != "edgepurge" {
		t.Fatalf("HEALTHCHECK runs %s, want the edgepurge binary", argv[0])
	}
	// The image's binary is where the HEALTHCHECK runs it.
	copied := false
	for _, in := range finalStage(t) {
		if in.cmd == "COPY" && strings.HasSuffix(strings.TrimSpace(in.args), " "+argv[0]) {
			copied = true
		}
	}
	if !copied {
		t.Errorf("no COPY in the final stage puts the binary at %s", argv[0])
	}
	bin := edgepurgeBin(t)
	sub := argv[1]
	help := run(t, root(t), cleanEnv(), bin, sub, "--help")
	if !slices.Contains(subcommands(run(t, root(t), cleanEnv(), bin, "--help")), sub) {
		t.Errorf("HEALTHCHECK runs `edgepurge %s`, which edgepurge --help does not list", sub)
	}
	accepted := longFlags(help)
	for _, a := range argv[2:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !slices.Contains(accepted, name) {
				t.Errorf("HEALTHCHECK passes --%s, which `edgepurge %s --help` does not list", name, sub)
			}
		}
	}
	u := healthcheckURL(t, argv)
	if u.Path != "/healthz" {
		t.Errorf("HEALTHCHECK probes %s; want the liveness endpoint /healthz (a failing readiness check must not restart the container)", u.Path)
	}
}

// healthcheckURL is the URL the HEALTHCHECK probes.
func healthcheckURL(t testing.TB, argv []string) *url.URL {
	t.Helper()
	for i, a := range argv {
		raw, ok := strings.CutPrefix(a, "--url=")
		if !ok && a == "--url" && i+1 < len(argv) {
			raw, ok = argv[i+1], true
		}
		if ok {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("HEALTHCHECK %q passes no --url", argv)
	return nil
}

// TestDockerfileHealthcheckPassesWhileNotReady runs the HEALTHCHECK's own
// command against a real `edgepurge serve` whose Redis is unreachable: the
// liveness probe passes while readiness fails, so such a container is
// taken out of rotation, not restarted.
func TestDockerfileHealthcheckPassesWhileNotReady(t *testing.T) {
	argv := healthcheck(t)
	bin := edgepurgeBin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"EDGEPURGE_DRY_RUN=true", "EDGEPURGE_LISTEN=" + addr,
		"REDIS_URL=redis://127.0.0.1:1/0", // nothing listens there
		// Redis is a shared check: it fails once it has failed for the
		// window, and fails readiness only past this grace.
		"EDGEPURGE_CONFIG=" + writeTemp(t, "readiness:\n  shared_grace: 1ms\n  window: 100ms\n"),
	}
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Process.Kill()
			srv.Wait()
		}
	}
	t.Cleanup(stop)

	probe := func(path string) (error, string) {
		u := healthcheckURL(t, argv)
		u.Host, u.Path = addr, path
		args := slices.Clone(argv[1:])
		for i, a := range args {
			if a == "--url" && i+1 < len(args) {
				args[i+1] = u.String()
			} else if strings.HasPrefix(a, "--url=") {
				args[i] = "--url=" + u.String()
			}
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = cleanEnv()
		b, err := cmd.CombinedOutput()
		return err, string(b)
	}
	live := healthcheckURL(t, argv).Path
	deadline := time.Now().Add(15 * time.Second)
	for {
		err, msg := probe(live)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the HEALTHCHECK command never passed: %v %s\nserver output:\n%s", err, msg, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err, msg := probe("/readyz")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the same command against /readyz kept passing with Redis unreachable past the grace (%s); the test proves nothing", msg)
			break
		}
	}
}

// writeTemp writes body to a file of the test's and returns its path.
func writeTemp(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDockerfileExposesTheDefaultListenPort(t *testing.T) {
	_, want, err := net.SplitHostPort(config.DefaultListen)
	if err != nil {
		t.Fatal(err)
	}
	var exposed []string
	for _, in := range finalStage(t) {
		switch in.cmd {
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				p, _, _ = strings.Cut(p, "/")
				exposed = append(exposed, p)
			}
		case "ENV":
			if v, ok := strings.CutPrefix(in.args, "EDGEPURGE_LISTEN="); ok {
				if v != config.DefaultListen {
					t.Errorf("the Dockerfile sets EDGEPURGE_LISTEN=%s; the default listen address is %s", v, config.DefaultListen)
				}
			}
		}
	}
	if !slices.Equal(exposed, []string{want}) {
		t.Errorf("the Dockerfile exposes %q; want the default listen port %s (config.DefaultListen %q)", exposed, want, config.DefaultListen)
	}
	if u := healthcheckURL(t, healthcheck(t)); u.Port() != want {
		t.Errorf("HEALTHCHECK probes port %s; the server listens on %s", u.Port(), want)
	}
}

func TestDockerfileUserIsNotRoot(t *testing.T) {
	var user string
	for _, in := range finalStage(t) {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	name, group, _ := strings.Cut(user, ":")
	switch {
	case user == "":
		t.Error("the final stage sets no USER: the container would run as root")
	case name == "root" || name == "0" || group == "root" || group == "0":
		t.Errorf("the final stage runs as USER %s", user)
	}
}

// dockerignore is the .dockerignore's patterns, as Docker reads them.
type dockerignore []struct {
	pattern string
	negate  bool
}

func readDockerignore(t testing.TB) dockerignore {
	t.Helper()
	var d dockerignore
	for _, l := range strings.Split(read(t, ".dockerignore"), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		l = path.Clean(strings.TrimPrefix(strings.TrimPrefix(l, "!"), "/"))
		d = append(d, struct {
			pattern string
			negate  bool
		}{l, neg})
	}
	return d
}

// excludes reports whether Docker leaves file (slash-separated, relative
// to the context) out of the build context: the last matching pattern
// wins; a pattern matching a directory excludes everything under it.
func (d dockerignore) excludes(file string) bool {
	out := false
	for _, p := range d {
		if ignoreMatch(p.pattern, file) {
			out = !p.negate
		}
	}
	return out
}

func ignoreMatch(pattern, file string) bool {
	// The file itself or any of its parent directories.
	for f := file; f != "." && f != "/"; f = path.Dir(f) {
		if globMatch(strings.Split(pattern, "/"), strings.Split(f, "/")) {
			return true
		}
	}
	return false
}

// globMatch matches path elements, "**" standing for any number of them.
func globMatch(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if globMatch(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], name[0])
	return err == nil && ok && globMatch(pat[1:], name[1:])
}

func TestDockerignoreKeepsTheBuildInputsOnly(t *testing.T) {
	d := readDockerignore(t)
	for _, f := range []string{".git/HEAD", "bin/edgepurge", "edgepurge", ".env", ".env.local", "internal/app/cpu.out", "x.test", "docs/api.md"} {
		if !d.excludes(f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
	for _, f := range gitFiles(t) {
		needed := f == "go.mod" || f == "go.sum" || (strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go"))
		if needed && d.excludes(f) {
			t.Errorf(".dockerignore excludes %s, which the build needs", f)
		}
	}
}

// TestDockerfileContextBuilds copies the tracked files the .dockerignore
// leaves in the build context to a fresh directory and runs the
// Dockerfile's own go build there: the context holds everything the build
// needs (nothing untracked or generated is missing, which is also what
// `go install …@latest` needs), and the version arguments reach the binary.
func TestDockerfileContextBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary from a copy of the tree")
	}
	d := readDockerignore(t)
	ctx := t.TempDir()
	n := 0
	for _, f := range gitFiles(t) {
		if d.excludes(f) {
			continue
		}
		src := filepath.Join(root(t), filepath.FromSlash(f))
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		dst := filepath.Join(ctx, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, src, dst)
		n++
	}
	b := dockerGoBuild(t)
	args := map[string]string{"VERSION": "v0.0.0-repotest", "COMMIT": "c0ffee"}
	out := filepath.Join(t.TempDir(), "edgepurge")
	words := slices.Clone(b.words)
	for i, w := range words {
		words[i] = os.Expand(w, func(k string) string {
			if v, ok := args[k]; ok {
				return v
			}
			t.Fatalf("the Dockerfile's go build uses $%s, not a known build argument", k)
			return ""
		})
		if w == b.Output {
			words[i] = out
		}
	}
	env := cleanEnv("GOFLAGS=-mod=readonly", "GOWORK=off")
	i := 0
	for ; envAssign.MatchString(words[i]); i++ {
		env = append(env, words[i])
	}
	run(t, ctx, env, goTool(t), words[i+1:]...)
	// version prints through cobra's Printf, which writes to stderr.
	ver := exec.Command(out, "version")
	ver.Env = cleanEnv()
	b2, err := ver.CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", out, err, b2)
	}
	got := string(b2)
	if want := fmt.Sprintf("edgepurge %s (commit %s,", args["VERSION"], args["COMMIT"]); !strings.HasPrefix(got, want) {
		t.Errorf("the binary built from the context (%d files) says %q, want %q…", n, got, want)
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	o, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(o, in); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}
