package container

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// Limits the image is held to.
const (
	maxImageBytes = 25 << 20 // the target: under 25 MB
	nonroot       = "65532"
)

// The credentials the containers run with; the stand-in accepts the token.
const (
	cfToken   = "cf-token-container-test"
	zone      = "023e105f4ecef8ad9ca31a8372d0c353"
	whSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testPage  = "p0"
	pageHost  = "p0.status.example.com"
	cfgInside = "/etc/edgepurge/edgepurge.yaml"
)

// figures are the measurements the test reports at the end.
type figures struct {
	standins, build              time.Duration
	size                         int64
	toServing, toHealthy, toStop time.Duration
	toHealthyEnv                 time.Duration
	memory                       string
	answered                     map[string]int
}

// TestImage builds the Dockerfile with the stand-in base images, checks
// the image, and runs it: configured by a file, by the environment alone,
// and with Redis unreachable, each on a port other than 8080.
func TestImage(t *testing.T) {
	enabled(t)
	root := proc.Root(t)
	removeLeftovers(t)
	run := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	label := runLabel + "=" + run
	buildTag := "edgepurge-test/build-standin:" + run
	runtimeTag := "edgepurge-test/runtime-standin:" + run
	image := "edgepurge-test/edgepurge:" + run
	t.Cleanup(func() { removeImages(t, label, image, buildTag, runtimeTag) })
	var fig figures

	start := time.Now()
	buildStandin(t, buildTag, label)
	runtimeStandin(t, runtimeTag, label)
	fig.standins = time.Since(start)

	// The project's Dockerfile, unchanged, with the stand-ins as its base
	// images and the module proxy of this machine's Go.
	goproxy := strings.TrimSpace(string(must(exec.Command("go", "env", "GOPROXY").Output())))
	commit := "unknown"
	if b, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(b))
	}
	const version = "v0.0.0-container-test"
	args := []string{"build", "--network", "host", "--rm", "--force-rm", "-t", image,
		"--build-arg", "BUILD_IMAGE=" + buildTag,
		"--build-arg", "RUNTIME_IMAGE=" + runtimeTag,
		"--build-arg", "GOPROXY=" + goproxy,
		"--build-arg", "VERSION=" + version,
		"--build-arg", "COMMIT=" + commit,
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
		if v := os.Getenv(k); v != "" {
			args = append(args, "--build-arg", k+"="+v)
		}
	}
	start = time.Now()
	docker(t, append(args, root)...)
	fig.build = time.Since(start)
	fig.size = must(strconv.ParseInt(inspect(t, "{{.Size}}", image), 10, 64))

	t.Run("config", func(t *testing.T) { checkImageConfig(t, image) })
	var imageBin string
	binDir := t.TempDir()
	t.Run("files", func(t *testing.T) { imageBin = checkNoShell(t, image, label, binDir) })
	t.Run("same build as make build", func(t *testing.T) {
		if imageBin == "" {
			t.Skip("no binary copied out of the image")
		}
		checkSameBuildAsMake(t, imageBin, version, commit)
	})
	t.Run("build context", func(t *testing.T) { checkContext(t, runtimeTag, label) })
	t.Run("version", func(t *testing.T) {
		// The build arguments reach the binary (version prints to stderr).
		out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--label", label, image, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("docker run %s version: %v\n%s", image, err, out)
		}
		if want := fmt.Sprintf("edgepurge %s (commit %s,", version, commit); !strings.HasPrefix(strings.TrimSpace(string(out)), want) {
			t.Errorf("the image says %q, want %q…", out, want)
		}
	})
	t.Run("serve", func(t *testing.T) { serve(t, image, label, &fig) })

	t.Logf("container figures: stand-in base images %.1fs; docker build %.1fs; image %.1f MB (%d bytes); "+
		"docker run → /healthz 200 %s; → HEALTHCHECK healthy %s (config file), %s (environment only); "+
		"docker stop %s (drain_delay %s); memory after the drain load %s; answers during the stop %v",
		fig.standins.Seconds(), fig.build.Seconds(), float64(fig.size)/1e6, fig.size,
		fig.toServing.Round(time.Millisecond), fig.toHealthy.Round(100*time.Millisecond), fig.toHealthyEnv.Round(100*time.Millisecond),
		fig.toStop.Round(100*time.Millisecond), config.DefaultDrainDelay, fig.memory, fig.answered)
	if fig.size >= maxImageBytes {
		t.Errorf("the image is %.1f MB; the target is under %.0f MB", float64(fig.size)/1e6, float64(maxImageBytes)/(1<<20))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// checkImageConfig reads what the image says of itself.
func checkImageConfig(t *testing.T, image string) {
	var cfg struct {
		User         string
		Entrypoint   []string
		Cmd          []string
		Env          []string
		ExposedPorts map[string]any
		Healthcheck  struct {
			Test     []string
			Interval time.Duration
			Timeout  time.Duration
			Retries  int
		}
	}
	if err := json.Unmarshal([]byte(inspect(t, "{{json .Config}}", image)), &cfg); err != nil {
		t.Fatal(err)
	}
	uid, _, _ := strings.Cut(cfg.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot cannot verify a name)", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/usr/local/bin/edgepurge"}) || !slices.Equal(cfg.Cmd, []string{"serve"}) {
		t.Errorf("ENTRYPOINT %q CMD %q: want the binary in exec form (it is PID 1 and gets docker stop's SIGTERM) serving", cfg.Entrypoint, cfg.Cmd)
	}
	for _, e := range cfg.Env {
		if strings.HasPrefix(e, "EDGEPURGE_LISTEN=") {
			t.Errorf("the image sets %s: it would override a config file's listen", e)
		}
	}
	_, port, _ := net.SplitHostPort(config.DefaultListen)
	if _, ok := cfg.ExposedPorts[port+"/tcp"]; !ok || len(cfg.ExposedPorts) != 1 {
		t.Errorf("EXPOSE %v; want only the default listen port %s", cfg.ExposedPorts, port)
	}
	hc := strings.Join(cfg.Healthcheck.Test, " ")
	if !strings.HasPrefix(hc, "CMD /usr/local/bin/edgepurge health") || !strings.Contains(hc, "/healthz") {
		t.Errorf("HEALTHCHECK %q: want `edgepurge health` on the liveness path /healthz", hc)
	}
	if strings.Contains(hc, port) || strings.Contains(hc, "--url") {
		t.Errorf("HEALTHCHECK %q names a port or URL: it must follow the configured listen address", hc)
	}
}

// checkNoShell lists the runtime image's files (docker export of a
// container never started): the binary and the CA certificates, and no
// shell or busybox to exec into. It returns the path of the image's
// binary, copied out.
func checkNoShell(t *testing.T, image, label, outDir string) string {
	name := "edgepurge-test-files-" + strings.TrimPrefix(label, runLabel+"=")
	docker(t, "create", "--name", name, "--label", label, image)
	defer removeContainer(t, name)
	out, err := exec.Command("docker", "export", name).Output()
	if err != nil {
		t.Fatalf("docker export: %v", err)
	}
	tr := tar.NewReader(bytes.NewReader(out))
	var files []string
	bin := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if h.Typeflag == tar.TypeDir || dockerMade(name) {
			continue
		}
		files = append(files, name)
		switch path.Base(name) {
		case "sh", "bash", "ash", "dash", "zsh", "busybox", "toybox", "apt", "apt-get", "dpkg", "apk":
			t.Errorf("the runtime image holds %s", name)
		}
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 && name != "usr/local/bin/edgepurge" {
			t.Errorf("the runtime image holds another executable: %s", name)
		}
		if name == "usr/local/bin/edgepurge" {
			bin = filepath.Join(outDir, "edgepurge")
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bin, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if bin == "" || !slices.Contains(files, "etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("the runtime image lacks the binary or the CA certificates: %q", files)
	}
	t.Logf("runtime image files: %s", strings.Join(files, " "))
	// And from the outside, as someone trying to get a shell would.
	if out, err := dockerErr(nil, "run", "--rm", "--network", "none", "--label", label, "--entrypoint", "/bin/sh", image, "-c", "id"); err == nil {
		t.Errorf("a shell ran in the runtime image: %s", out)
	}
	return bin
}

// checkSameBuildAsMake compares the build information Go records in the
// image's binary with that of `make build`'s, for the same version and
// commit: the same package, flags (-trimpath), CGO_ENABLED, target and
// dependencies, and both stripped (-s -w). The Dockerfile and the Makefile spell their
// builds separately; their products must not differ.
func checkSameBuildAsMake(t *testing.T, imageBin, version, commit string) {
	root := proc.Root(t)
	makeBin := filepath.Join(t.TempDir(), "edgepurge")
	cmd := exec.Command("make", "--no-print-directory", "build", "BIN="+makeBin, "VERSION="+version, "COMMIT="+commit)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	read := func(p string) (*buildinfo.BuildInfo, map[string]string) {
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			t.Fatalf("build info of %s: %v", p, err)
		}
		set := map[string]string{}
		for _, s := range bi.Settings {
			if !strings.HasPrefix(s.Key, "vcs") { // no .git in the build context
				set[s.Key] = s.Value
			}
		}
		return bi, set
	}
	ib, iset := read(imageBin)
	mb, mset := read(makeBin)
	if ib.Path != mb.Path {
		t.Errorf("the image builds %s, make build %s", ib.Path, mb.Path)
	}
	if !maps.Equal(iset, mset) {
		t.Errorf("build settings differ:\n image:      %v\n make build: %v", iset, mset)
	}
	deps := func(bi *buildinfo.BuildInfo) []string {
		var out []string
		for _, d := range bi.Deps {
			out = append(out, d.Path+"@"+d.Version)
		}
		return out
	}
	if !slices.Equal(deps(ib), deps(mb)) {
		t.Errorf("dependencies differ:\n image:      %v\n make build: %v", deps(ib), deps(mb))
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath=true"} {
		k, v, _ := strings.Cut(want, "=")
		if iset[k] != v {
			t.Errorf("the image's binary was built with %s=%q, want %s", k, iset[k], want)
		}
	}
	// Go records no -ldflags beside -trimpath (they may hold paths), so
	// their effect is read instead: -s -w leave no symbol table and no
	// DWARF (the version and commit: the version subtest).
	for what, p := range map[string]string{"the image's": imageBin, "make build's": makeBin} {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range f.Sections {
			if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
				t.Errorf("%s binary has a %s section: not linked with -s -w", what, sec.Name)
			}
		}
		f.Close()
	}
}

// dockerMade tells the files the engine puts into every container (an
// export holds them) from the image's own.
func dockerMade(name string) bool {
	switch name {
	case ".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab":
		return true
	}
	return strings.HasPrefix(name, "dev/") || strings.HasPrefix(name, "proc/") || strings.HasPrefix(name, "sys/")
}

// container is one `docker run -d` of the image.
type container struct {
	name string
	base string // http://127.0.0.1:port
}

// freePort is a loopback port other than 8080, free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port != 8080 {
			return port
		}
	}
}

// start runs the image detached on the host's network, read-only, with
// every capability dropped and no privilege escalation.
func start(t *testing.T, image, label, name string, port int, extra ...string) *container {
	t.Helper()
	args := []string{"run", "-d", "--name", name, "--label", label,
		"--network", "host", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"}
	args = append(args, extra...)
	docker(t, append(args, image)...)
	c := &container{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "60", name).CombinedOutput()
			t.Logf("docker logs %s (last lines):\n%s", name, logs)
		}
		removeContainer(t, name)
	})
	return c
}

// waitHealthy waits for Docker's own HEALTHCHECK to call the container
// healthy, and returns how long that took from since.
func (c *container) waitHealthy(t *testing.T, since time.Time) time.Duration {
	t.Helper()
	var status string
	ok := waitFor(90*time.Second, 100*time.Millisecond, func() bool {
		status = inspect(t, "{{if .State.Health}}{{.State.Health.Status}}{{end}}/{{.State.Status}}", c.name)
		return status == "healthy/running" || strings.HasSuffix(status, "/exited")
	})
	if !ok || status != "healthy/running" {
		t.Fatalf("%s: HEALTHCHECK status %q after %s; health log: %s", c.name, status, time.Since(since).Round(time.Second),
			inspect(t, "{{json .State.Health}}", c.name))
	}
	return time.Since(since)
}

// health is Docker's record of a container's HEALTHCHECK.
type health struct {
	Status        string
	FailingStreak int
	Log           []struct {
		Start    time.Time
		ExitCode int
		Output   string
	}
}

func healthOf(t *testing.T, name string) health {
	t.Helper()
	var h health
	if err := json.Unmarshal([]byte(inspect(t, "{{json .State.Health}}", name)), &h); err != nil {
		t.Fatalf("health of %s: %v", name, err)
	}
	return h
}

// get is one GET of the container, its status and body.
func (c *container) get(p string) (int, string, error) {
	resp, err := http.Get(c.base + p)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// event is the answer to one signed event.
type event struct {
	id, incident string
	code         int
	status       string
	err          error
	answered     time.Time
}

// send posts a signed incident.updated event for incident.
func send(client *http.Client, base, id, incident string) event {
	e := event{id: id, incident: incident}
	body := []byte(fmt.Sprintf(`{"type":"incident.updated","page_id":%q,"incident_id":%q}`, testPage, incident))
	now := time.Now()
	sig, err := webhook.Sign(whSecret, id, now, body)
	if err != nil {
		e.err = err
		return e
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/hooks/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := client.Do(req)
	e.answered = time.Now()
	if err != nil {
		e.err = err
		return e
	}
	defer resp.Body.Close()
	e.code = resp.StatusCode
	var a struct {
		Status string `json:"status"`
	}
	b, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(b, &a) == nil {
		e.status = a.Status
	}
	if e.code/100 != 2 && e.status == "" {
		e.status = strings.TrimSpace(string(b))
	}
	return e
}

// procStatus reads the fields of /proc/PID/status of a container's
// process, as the host sees it.
func procStatus(t *testing.T, name string) map[string]string {
	t.Helper()
	pid := inspect(t, "{{.State.Pid}}", name)
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatalf("the status of %s's process %s: %v", name, pid, err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	mounts, err := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
	if err == nil {
		for _, l := range strings.Split(string(mounts), "\n") {
			f := strings.Fields(l)
			if len(f) > 5 && f[4] == "/" {
				out["root mount"] = f[5]
			}
		}
	}
	return out
}

// serve runs two containers of the image against the real Redis and
// the stand-in: one configured by a file (listen included), one by the
// environment alone.
func serve(t *testing.T, image, label string, fig *figures) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{cfToken}, Zones: []string{zone}})
	cfBase, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	run := strings.TrimPrefix(label, runLabel+"=")

	// A: a config file, mounted read-only, holds the listen address; the
	// secrets come from the environment (one through ${…} in the file).
	portA := freePort(t)
	cfgFile := filepath.Join(t.TempDir(), "edgepurge.yaml")
	cfgBody := fmt.Sprintf(`listen: "127.0.0.1:%d"
redis:
  url: redis://%s/0
cloudflare:
  zone_id: %s
  base_url: %s
  rate_limit:
    account: %q
auth:
  webhook_secrets: ["${WEBHOOK_SECRET}"]
registry:
  prefix: %q
dedupe:
  prefix: %q
journal:
  stream: %q
  dead_stream: %q
pages:
  %s:
    hosts: ["{page_id}.status.example.com"]
    keys: ["%sstatuspage:{page_id}:summary"]
`, portA, redistest.SharedAddr, zone, cfBase, prefix, prefix+"page:", prefix+"seen:", prefix+"journal", prefix+"journal:dead", testPage, prefix)
	if err := os.WriteFile(cfgFile, []byte(cfgBody), 0o644); err != nil {
		t.Fatal(err)
	}
	runA := time.Now()
	a := start(t, image, label, "edgepurge-test-file-"+run, portA,
		"-v", cfgFile+":"+cfgInside+":ro",
		"-e", "EDGEPURGE_CONFIG="+cfgInside,
		"-e", "CLOUDFLARE_API_TOKEN="+cfToken,
		"-e", "WEBHOOK_SECRET="+whSecret,
	)
	// B: the environment alone, EDGEPURGE_LISTEN on another port.
	portB := freePort(t)
	runB := time.Now()
	b := start(t, image, label, "edgepurge-test-env-"+run, portB,
		"-e", fmt.Sprintf("EDGEPURGE_LISTEN=127.0.0.1:%d", portB),
		"-e", "REDIS_URL=redis://"+redistest.SharedAddr+"/0",
		"-e", "CLOUDFLARE_API_TOKEN="+cfToken,
		"-e", "CLOUDFLARE_ZONE_ID="+zone,
		"-e", "CLOUDFLARE_BASE_URL="+cfBase,
		"-e", "EDGEPURGE_HOSTS={page_id}.status.example.com",
		"-e", "EDGEPURGE_KEYS="+prefix+"b:statuspage:{page_id}:summary",
		"-e", "EDGEPURGE_JOURNAL_STREAM="+prefix+"b:journal",
		"-e", "EDGEPURGE_WEBHOOK_SECRETS="+whSecret,
	)

	// C: Redis unreachable, readiness failing: liveness, which the
	// HEALTHCHECK probes, passes all the same, so the container is
	// taken out of rotation, not restarted.
	portC := freePort(t)
	cfgC := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(cfgC, []byte(fmt.Sprintf(`listen: "127.0.0.1:%d"
dry_run: true
redis:
  url: redis://127.0.0.1:1/0
readiness:
  shared_grace: 1ms
  window: 100ms
`, portC)), 0o644); err != nil {
		t.Fatal(err)
	}
	runC := time.Now()
	c := start(t, image, label, "edgepurge-test-noredis-"+run, portC,
		"-v", cfgC+":"+cfgInside+":ro", "-e", "EDGEPURGE_CONFIG="+cfgInside)

	if !waitFor(30*time.Second, 2*time.Millisecond, func() bool { code, _, _ := a.get("/healthz"); return code == 200 }) {
		t.Fatalf("%s never answered /healthz", a.name)
	}
	fig.toServing = time.Since(runA)
	fig.toHealthy = a.waitHealthy(t, runA)
	fig.toHealthyEnv = b.waitHealthy(t, runB)
	if code, body, err := b.get("/readyz"); code != 200 {
		t.Errorf("%s /readyz: %d %s %v", b.name, code, body, err)
	}
	c.waitHealthy(t, runC)
	var readyz string
	if !waitFor(10*time.Second, 50*time.Millisecond, func() bool {
		code, body, _ := c.get("/readyz")
		readyz = fmt.Sprint(code, " ", body)
		return code == 503 && strings.Contains(body, "redis")
	}) {
		t.Errorf("%s: /readyz kept answering %s with Redis unreachable; the check proves nothing", c.name, readyz)
	} else {
		// A HEALTHCHECK run that started while the instance was not ready.
		notReady := time.Now()
		var h health
		if !waitFor(20*time.Second, 200*time.Millisecond, func() bool {
			h = healthOf(t, c.name)
			return len(h.Log) > 0 && h.Log[len(h.Log)-1].Start.After(notReady)
		}) {
			t.Errorf("%s: no HEALTHCHECK ran in 20 s: %+v", c.name, h)
		} else if last := h.Log[len(h.Log)-1]; h.Status != "healthy" || last.ExitCode != 0 {
			t.Errorf("%s: not ready (%s), and the HEALTHCHECK says %s (exit %d: %s): a readiness failure must not make the container unhealthy",
				c.name, readyz, h.Status, last.ExitCode, last.Output)
		}
	}
	removeContainer(t, c.name)
	// B has shown the HEALTHCHECK follows EDGEPURGE_LISTEN; it stops in
	// the background while A is tested.
	stoppedB := make(chan string, 1)
	go func() {
		out, err := dockerErr(nil, "stop", "-t", "40", b.name)
		if err != nil {
			stoppedB <- fmt.Sprintf("docker stop: %v %s", err, out)
			return
		}
		stoppedB <- ""
	}()

	t.Run("least privilege", func(t *testing.T) {
		st := procStatus(t, a.name)
		for k, want := range map[string]string{
			"Uid":        nonroot + " " + nonroot + " " + nonroot + " " + nonroot,
			"Gid":        nonroot + " " + nonroot + " " + nonroot + " " + nonroot,
			"CapEff":     "0000000000000000",
			"CapPrm":     "0000000000000000",
			"CapBnd":     "0000000000000000",
			"NoNewPrivs": "1",
		} {
			if st[k] != want {
				t.Errorf("%s's process: %s %q, want %q", a.name, k, st[k], want)
			}
		}
		if opts := st["root mount"]; !strings.HasPrefix(opts, "ro") {
			t.Errorf("%s's root file system is mounted %q, want read-only", a.name, opts)
		}
		if got := inspect(t, "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}", a.name); got != "true [ALL]" {
			t.Errorf("HostConfig: %s", got)
		}
	})

	t.Run("signed event purged", func(t *testing.T) {
		ctx := context.Background()
		key := prefix + "statuspage:" + testPage + ":summary"
		if err := rdb.Set(ctx, key, "stale", 0).Err(); err != nil {
			t.Fatal(err)
		}
		e := send(http.DefaultClient, a.base, "msg_container_"+run, "container-1")
		if e.err != nil || e.code != 200 || e.status != "purged" {
			t.Fatalf("signed event: %d %q %v", e.code, e.status, e.err)
		}
		if want := "https://" + pageHost + "/incidents/container-1"; !slices.Contains(stub.URLsPurged(zone), want) {
			t.Errorf("the stand-in was not asked to purge %s; it purged %q", want, stub.URLsPurged(zone))
		}
		if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
			t.Errorf("Redis key %s still there (%d, %v)", key, n, err)
		}
		// A replay of the same id is a duplicate, not a second purge.
		if d := send(http.DefaultClient, a.base, "msg_container_"+run, "container-1"); d.code != 200 || d.status != "duplicate" {
			t.Errorf("the same id again: %d %q %v", d.code, d.status, d.err)
		}
	})

	t.Run("docker stop drains", func(t *testing.T) {
		fig.toStop, fig.memory, fig.answered = drain(t, a, stub, rdb, prefix, run)
	})

	if msg := <-stoppedB; msg != "" {
		t.Errorf("%s: %s", b.name, msg)
	} else if code := inspect(t, "{{.State.ExitCode}}", b.name); code != "0" {
		t.Errorf("%s exited %s after docker stop, want 0", b.name, code)
	}
}

// drain sends signed events from a few clients while `docker stop` runs:
// the container must go unready at once, keep answering through the drain
// delay, exit 0, and every event answered 2xx must have been purged (200)
// or journaled (202).
func drain(t *testing.T, a *container, stub *cfstub.Server, rdb redis.UniversalClient, prefix, run string) (time.Duration, string, map[string]int) {
	const workers = 4
	var (
		mu     sync.Mutex
		events []event
		seq    int
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 40 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				seq++
				n := seq
				mu.Unlock()
				e := send(client, a.base, fmt.Sprintf("msg_drain_%s_%d", run, n), fmt.Sprintf("drain-%d", n))
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
				if e.err != nil {
					time.Sleep(20 * time.Millisecond) // refused: the caller's retry, paced
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	memory := strings.TrimSpace(docker(t, "stats", "--no-stream", "--format", "{{.MemUsage}}", a.name))

	// Readiness, watched from the moment the stop is sent.
	stopAt := time.Now()
	unready := make(chan time.Duration, 1)
	go func() {
		for time.Since(stopAt) < 30*time.Second {
			code, body, err := a.get("/readyz")
			if err == nil && code == 503 && strings.Contains(body, "draining") {
				unready <- time.Since(stopAt)
				return
			}
			if err != nil && time.Since(stopAt) > time.Second {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		close(unready)
	}()
	out, err := dockerErr(nil, "stop", "-t", "40", a.name)
	took := time.Since(stopAt)
	if err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	// Keep the load on briefly after the exit: connections are refused.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()

	if code := inspect(t, "{{.State.ExitCode}} {{.State.OOMKilled}}", a.name); code != "0 false" {
		t.Errorf("exit code and OOM-killed after docker stop: %s, want 0 false", code)
	}
	if d, ok := <-unready; !ok {
		t.Error("/readyz never answered 503 draining after docker stop")
	} else if d > time.Second {
		t.Errorf("/readyz turned 503 draining %s after docker stop, want at once", d)
	}
	shutdown := config.DefaultDrainDelay + config.DefaultShutdownTimeout
	if took < config.DefaultDrainDelay-500*time.Millisecond || took > shutdown+5*time.Second {
		t.Errorf("docker stop took %s; want the drain delay %s and at most drain delay + shutdown timeout %s", took, config.DefaultDrainDelay, shutdown)
	}

	// Every 2xx is purged or journaled.
	purged := map[string]bool{}
	for _, u := range stub.URLsPurged(zone) {
		purged[u] = true
	}
	journal, err := rdb.XRange(context.Background(), prefix+"journal", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	journaled := func(id string) bool {
		for _, m := range journal {
			for _, v := range m.Values {
				if s, ok := v.(string); ok && strings.Contains(s, id) {
					return true
				}
			}
		}
		return false
	}
	counts := map[string]int{}
	afterStop := 0
	for _, e := range events {
		switch {
		case e.err != nil:
			counts["no answer (refused or closed; the sender retries)"]++
		case e.code == 200 && e.status == "purged":
			counts["200 purged"]++
			if !purged["https://"+pageHost+"/incidents/"+e.incident] {
				t.Errorf("event %s answered 200 purged, but the stand-in never purged its incident page", e.id)
			}
		case e.code == 202:
			counts["202 journaled"]++
			if !journaled(e.id) {
				t.Errorf("event %s answered 202, but the journal has no entry for it", e.id)
			}
		case e.code/100 == 2:
			counts[fmt.Sprintf("%d %s", e.code, e.status)]++
			t.Errorf("event %s answered %d %q", e.id, e.code, e.status)
		default:
			counts[fmt.Sprintf("%d", e.code)]++
		}
		if e.err == nil && e.code/100 == 2 && e.answered.After(stopAt) {
			afterStop++
		}
	}
	if counts["200 purged"] == 0 {
		t.Errorf("no event was purged under load: %v", counts)
	}
	if afterStop == 0 {
		t.Errorf("no event was answered 2xx after docker stop: the drain delay did not keep serving (%v)", counts)
	}
	counts["2xx after docker stop"] = afterStop
	return took, memory, counts
}
