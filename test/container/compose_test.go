package container

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// composeFile is the part of `docker-compose config`'s output the test
// reads.
type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context string `yaml:"context"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []struct {
			Published any `yaml:"published"`
			Target    any `yaml:"target"`
		} `yaml:"ports"`
		ReadOnly        bool     `yaml:"read_only"`
		CapDrop         []string `yaml:"cap_drop"`
		SecurityOpt     []string `yaml:"security_opt"`
		StopGracePeriod string   `yaml:"stop_grace_period"`
		Volumes         []string `yaml:"volumes"`
		DependsOn       map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

// compose runs Debian's docker-compose (v1.29, which
// scripts/ensure-docker.sh installs) `config` on the repository's file,
// with env as the only environment and no .env file.
func compose(t *testing.T, env ...string) (string, error) {
	t.Helper()
	root := proc.Root(t)
	empty := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-compose", "--env-file", empty, "-f", filepath.Join(root, "docker-compose.yml"), "config")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestComposeConfig: docker-compose.yml is valid for docker-compose, and
// what it says agrees with the image and the code's defaults.
func TestComposeConfig(t *testing.T) {
	enabled(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Fatalf("docker-compose is missing (%v): scripts/ensure-docker.sh installs it", err)
	}
	const hosts = "{page_id}.status.example.com,status.acme.test"
	out, err := compose(t, "EDGEPURGE_HOSTS="+hosts)
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(out), &cf); err != nil {
		t.Fatalf("docker-compose config's output: %v\n%s", err, out)
	}
	ep, ok := cf.Services["edgepurge"]
	if !ok {
		t.Fatalf("no edgepurge service:\n%s", out)
	}
	if ep.Build == nil || filepath.Clean(ep.Build.Context) != proc.Root(t) {
		t.Errorf("edgepurge is not built from the repository's Dockerfile: %+v", ep.Build)
	}
	// Template braces reach the service intact (compose's own
	// interpolation must not eat them).
	if got := ep.Environment["EDGEPURGE_HOSTS"]; got != hosts {
		t.Errorf("EDGEPURGE_HOSTS reaches the service as %q, want %q", got, hosts)
	}
	if ep.Environment["REDIS_URL"] != "redis://redis:6379/0" || ep.DependsOn["redis"].Condition != "service_healthy" {
		t.Errorf("edgepurge is not wired to the healthy redis service: %v %v", ep.Environment["REDIS_URL"], ep.DependsOn)
	}
	// Every variable it sets is one the configuration reads.
	src := configSource(t)
	for k := range ep.Environment {
		if !strings.Contains(src, `"`+k+`"`) {
			t.Errorf("docker-compose.yml sets %s, which internal/config does not read", k)
		}
	}
	if v, ok := ep.Environment["EDGEPURGE_LISTEN"]; ok {
		t.Errorf("docker-compose.yml sets EDGEPURGE_LISTEN=%s: leave the default so that the published port stays right", v)
	}
	_, port, _ := net.SplitHostPort(config.DefaultListen)
	if len(ep.Ports) != 1 || anyString(ep.Ports[0].Target) != port {
		t.Errorf("ports %+v: want the default listen port %s as the target", ep.Ports, port)
	}
	if !ep.ReadOnly || !slices.Equal(ep.CapDrop, []string{"ALL"}) || !slices.Contains(ep.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("edgepurge runs with read_only %v, cap_drop %v, security_opt %v; want as make test-container runs it", ep.ReadOnly, ep.CapDrop, ep.SecurityOpt)
	}
	grace, err := time.ParseDuration(ep.StopGracePeriod)
	if want := config.DefaultDrainDelay + config.DefaultShutdownTimeout; err != nil || grace <= want {
		t.Errorf("stop_grace_period %q: want more than drain_delay + shutdown_timeout (%s)", ep.StopGracePeriod, want)
	}
	rd := cf.Services["redis"]
	if !strings.Contains(strings.Join(rd.Command, " "), "--appendonly yes") || len(rd.Volumes) == 0 {
		t.Errorf("redis runs %q with volumes %q: the journal needs AOF on a volume", rd.Command, rd.Volumes)
	}

	// The one required setting is named when missing.
	if out, err := compose(t); err == nil || !strings.Contains(out, "EDGEPURGE_HOSTS") {
		t.Errorf("without EDGEPURGE_HOSTS: %v\n%s", err, out)
	}
}

// anyString is a port as compose printed it: a number or a string.
func anyString(v any) string { return fmt.Sprint(v) }

// configSource is the text of internal/config's non-test Go files.
func configSource(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(proc.Root(t), "internal", "config", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("internal/config: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
