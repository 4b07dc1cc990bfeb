package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// Every refusal of the CLI names the flag or variable that fixes it.
func TestCLIAnswersNameTheFix(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte("ok"))
		case r.Header.Get("Authorization") != "Bearer right":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"token invalid"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	noToken := []string{"EDGEPURGE_API_TOKEN="}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"purge without a token", noToken, []string{"purge", "--server", api.URL, "--page", "p0"}, 1,
			"no API token was sent: pass --token or set EDGEPURGE_API_TOKEN"},
		{"purge with a wrong token", noToken, []string{"purge", "--server", api.URL, "--token", "wrong", "--page", "p0"}, 1,
			"the server refused the API token given by --token: it must equal"},
		{"log without a token", noToken, []string{"log", "--server", api.URL}, 2,
			"no API token was sent: pass --token or set EDGEPURGE_API_TOKEN"},
		{"purge with no target", nil, []string{"purge", "--server", api.URL}, 2,
			"nothing to purge: give --page, --url, --tag, --prefix, --host, --key or --everything"},
		{"purge with a bad url", nil, []string{"purge", "--server", api.URL, "--url", "https://a.example/", "--url", "nope"}, 2,
			"--url #2: must be an absolute http or https URL"},
		{"purge with an argument", nil, []string{"purge", "extra-arg"}, 2,
			"purge takes no arguments, only flags (got 1); see edgepurge purge --help"},
		{"log with a bogus status", nil, []string{"log", "--server", api.URL, "--status", "bogus"}, 2,
			"--status must be one of purged, partial, failed, stale, journaled, dry_run"},
		{"log with a bogus source", nil, []string{"log", "--server", api.URL, "--source", "bogus"}, 2,
			"--source must be one of hook, statuspage, manual, canary, direct, redrive"},
		{"health of a URL without a path", nil, []string{"health", "--url", api.URL}, 1,
			"--url " + api.URL + " has no path: give the endpoint too, e.g. " + api.URL + "/readyz (readiness) or /healthz (liveness), or use --server " + api.URL},
		{"health --server", nil, []string{"health", "--server", api.URL, "--path", "/healthz"}, 0, "ok " + api.URL + "/healthz"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := proc.Run(t, c.env, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant it to say %q", code, c.code, out, c.want)
			}
			if strings.Contains(out, "page_id") || strings.Contains(out, "unknown command") {
				t.Errorf("answers in API or cobra terms:\n%s", out)
			}
		})
	}
}

// version writes to stdout, so that `edgepurge version | ...` works.
func TestVersionToStdout(t *testing.T) {
	cmd := newRoot()
	var stdout, stderr strings.Builder
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "edgepurge ") || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// journal with Redis down, no CDN and no dry run: its one line is its own
// error, naming where the journal lives and the setting that names it.
func TestJournalWithRedisDownNamesRedis(t *testing.T) {
	env := []string{"EDGEPURGE_CONFIG=", "CLOUDFLARE_API_TOKEN=", "EDGEPURGE_DRY_RUN=", "REDIS_URL=redis://" + proc.FreeAddr(t) + "/0"}
	out, code := proc.Run(t, env, "journal")
	want := "(the journal is in the Redis of REDIS_URL; is it running?)"
	if code != 2 || !strings.HasPrefix(out, "edgepurge: read journal: dial tcp ") || !strings.HasSuffix(strings.TrimSpace(out), want) || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d; output:\n%s\nwant one line, the CLI's error, ending %q", code, out, want)
	}
}

// runCLI runs the CLI in-process: its stdout, and the error main prints.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoot()
	var stdout strings.Builder
	cmd.SetOut(&stdout)
	cmd.SetErr(&stdout)
	cmd.SetArgs(args)
	return stdout.String(), cmd.Execute()
}

// A refused purge is an error (stderr, exit 1) saying nothing was purged,
// never "not complete", and a wrong token's names where it came from.
func TestPurgeRefusalSaysNothingPurgedAndTheTokenSource(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"token invalid"}`))
	}))
	defer api.Close()
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "HTTP 401: token invalid; no API token was sent: pass --token or set EDGEPURGE_API_TOKEN (the server's auth.api_token); nothing purged"},
		{"", []string{"--token", "wrong"}, "HTTP 401: token invalid; the server refused the API token given by --token: it must equal the server's auth.api_token (EDGEPURGE_API_TOKEN); nothing purged"},
		{"wrong", nil, "HTTP 401: token invalid; the server refused the API token given by EDGEPURGE_API_TOKEN: it must equal the server's auth.api_token (EDGEPURGE_API_TOKEN); nothing purged"},
	} {
		t.Setenv("EDGEPURGE_API_TOKEN", c.env)
		out, err := runCLI(t, append([]string{"purge", "--server", api.URL, "--page", "p0"}, c.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || err.Error() != c.want || out != "" {
			t.Errorf("token %q %v: stdout %q, err %v\nwant no stdout and the error %q", c.env, c.args, out, err, c.want)
		}
	}
}

// health names the endpoints on a 404, and with no address given, where
// the address came from and --server when nothing answers.
func TestHealthAnswersNameTheFix(t *testing.T) {
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	_, err := runCLI(t, "health", "--url", api.URL+"/nope")
	if want := "HTTP 404: no such endpoint; give /readyz (readiness) or /healthz (liveness)"; err == nil || err.Error() != want {
		t.Errorf("health --url …/nope: %v, want %q", err, want)
	}
	t.Setenv("EDGEPURGE_CONFIG", "")
	t.Setenv("EDGEPURGE_LISTEN", proc.FreeAddr(t))
	_, err = runCLI(t, "health")
	if want := "connection refused; is edgepurge serve running there? The address is EDGEPURGE_LISTEN, else the config's listen, else :8080; or give --server URL"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("health with nothing listening: %v, want it to end %q", err, want)
	}
}
