package repo

import (
	"regexp"
	"strings"
	"testing"
)

// The image is built and run for real by `make test-container`
// (test/container): the build with local stand-ins for the base images,
// the HEALTHCHECK, the user, the ports, the build context, the same build
// as `make build`, the drain on `docker stop`. What such a run cannot
// show is what it replaces: the base images a user's plain `docker build .`
// pulls. That is checked here.

// TestDockerfileDefaultBaseImages: without build arguments the Dockerfile
// builds on the official Go image of go.mod's Go release and runs on
// distroless static as nonroot, and both FROM lines take their image from
// the arguments (else the stand-ins would not replace them).
func TestDockerfileDefaultBaseImages(t *testing.T) {
	df := read(t, "Dockerfile")
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG\s+(BUILD_IMAGE|RUNTIME_IMAGE)=(\S+)\s*$`).FindAllStringSubmatch(df, -1) {
		args[m[1]] = m[2]
	}
	goLine := regexp.MustCompile(`(?m)^go\s+(\d+)\.(\d+)`).FindStringSubmatch(read(t, "go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	wantBuild := "golang:" + goLine[1] + "." + goLine[2] + "-bookworm"
	if args["BUILD_IMAGE"] != wantBuild {
		t.Errorf("ARG BUILD_IMAGE=%q, want %q (go.mod's Go release)", args["BUILD_IMAGE"], wantBuild)
	}
	if want := "gcr.io/distroless/static-debian12:nonroot"; args["RUNTIME_IMAGE"] != want {
		t.Errorf("ARG RUNTIME_IMAGE=%q, want %q", args["RUNTIME_IMAGE"], want)
	}
	var froms []string
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(.*)$`).FindAllStringSubmatch(df, -1) {
		froms = append(froms, strings.TrimSpace(m[1]))
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "${BUILD_IMAGE}") || froms[1] != "${RUNTIME_IMAGE}" {
		t.Errorf("FROM lines %q: want FROM ${BUILD_IMAGE} AS build, then FROM ${RUNTIME_IMAGE}", froms)
	}
	// Both arguments are declared before the first FROM, where FROM can
	// see them.
	first := strings.Index(df, "\nFROM ")
	for k := range args {
		if i := strings.Index(df, "ARG "+k+"="); i < 0 || i > first {
			t.Errorf("ARG %s is not declared before the first FROM", k)
		}
	}
}
