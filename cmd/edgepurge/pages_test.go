package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/internal/pages"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestPagesCommands(t *testing.T) {
	prefix := redistest.Prefix(t)
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})
	p := proc.Serve(t, stub, "registry:\n  prefix: \""+prefix+"page:\"\naudit:\n  stream: \""+prefix+"audit\"\n")
	env := []string{"EDGEPURGE_API_TOKEN=" + proc.APIToken}
	srv := []string{"--server", p.Base}
	run := func(args ...string) (string, int) {
		t.Helper()
		return proc.Run(t, env, append(args, srv...)...)
	}

	out, code := run("pages", "set", "cli1", "--host", "Status.Acme.test", "--host", "cli1.status.example.com", "--zone", proc.Zone)
	if code != 0 || !strings.Contains(out, "cli1: created (etag 1-") || !strings.Contains(out, "hosts   status.acme.test, cli1.status.example.com") {
		t.Fatalf("set: exit %d:\n%s", code, out)
	}
	etag := regexp.MustCompile(`etag (1-[0-9a-f]{12})`).FindStringSubmatch(out)[1]

	out, code = run("pages", "get", "cli1", "--incident", "inc9")
	for _, want := range []string{"source    registry", "hosts     status.acme.test, cli1.status.example.com", "etag      " + etag + " (version 1)",
		"url     https://status.acme.test/incidents/inc9", "created  by api_token: status.acme.test, cli1.status.example.com"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("get: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	out, code = run("pages", "get", "cli1", "--json")
	var v pages.View
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.ETag != etag || v.Plan == nil {
		t.Errorf("get --json: exit %d:\n%s", code, out)
	}
	// A page of the default rule only.
	if out, code = run("pages", "get", "nowhere"); code != 0 || !strings.Contains(out, "source    default") || !strings.Contains(out, "nowhere.status.example.com") {
		t.Errorf("get of a default-rule page: exit %d:\n%s", code, out)
	}

	// Refusals name the flag; exit 1.
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"pages", "set", "cli1", "--host", "ok.example.com", "--host", "bad host"}, `--host #2: "bad host" is not a hostname`, 1},
		{[]string{"pages", "set", "cli1", "--host", "ok.example.com", "--zone", "nope"}, `--zone: "nope" is not a zone of this configuration`, 1},
		{[]string{"pages", "set", "cli1", "--host", "ok.example.com", "--if-match", "1-000000000000"}, `--if-match: page "cli1" has changed: its ETag is now "` + etag + `"`, 1},
		{[]string{"pages", "set", "cli1"}, `--host: required`, 2},
		{[]string{"pages", "set", "cli1", "--host", "ok.example.com", "--options", `{"tags": ["{nope}"]}`}, `--options "tags[0]": `, 1},
		{[]string{"pages", "set", "cli1", "--host", "ok.example.com", "--options", `{"tag": []}`}, `--options: field "tag": unknown field`, 2},
		{[]string{"pages", "set"}, `takes one argument, the PAGE_ID`, 2},
		{[]string{"pages", "list", "--cursor", "bogus"}, `--cursor: cursor: not one a listing answered`, 2},
	} {
		out, code := run(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
	out, code = proc.Run(t, nil, append([]string{"pages", "get", "cli1"}, srv...)...)
	if code != 1 || !strings.Contains(out, "HTTP 401") || !strings.Contains(out, "EDGEPURGE_API_TOKEN") {
		t.Errorf("no token: exit %d:\n%s", code, out)
	}

	out, code = run("pages", "set", "cli2", "--host", "shared.example.com", "--options", `{"tags": ["page:{page_id}"], "schemes": ["http"]}`)
	if code != 0 || !strings.Contains(out, `options {"schemes":["http"],"tags":["page:{page_id}"]}`) {
		t.Fatalf("set cli2 with options: %d %s", code, out)
	}
	out, code = run("pages", "get", "cli2")
	if code != 0 || !strings.Contains(out, "options   ") || !strings.Contains(out, "tag     page:cli2") || !strings.Contains(out, "url     http://shared.example.com/") {
		t.Fatalf("get cli2 does not show its options and their plan: %d %s", code, out)
	}
	out, code = run("pages", "list", "--host", "status.acme.test")
	if code != 0 || !strings.Contains(out, "PAGE") || !strings.Contains(out, "cli1") || strings.Contains(out, "cli2") {
		t.Errorf("list --host: exit %d:\n%s", code, out)
	}
	out, code = run("pages", "list", "--limit", "1")
	if code != 0 || !strings.Contains(out, "more: --cursor ") {
		t.Errorf("list --limit 1: exit %d:\n%s", code, out)
	}
	out, code = run("pages", "list", "--limit", "1", "--all", "--json")
	if code != 0 || strings.Count(out, `"source":"registry"`) != 2 {
		t.Errorf("list --all --json: exit %d:\n%s", code, out)
	}

	if out, code = run("pages", "delete", "cli1", "--if-match", etag); code != 0 || !strings.Contains(out, "cli1: deleted") {
		t.Errorf("delete: exit %d:\n%s", code, out)
	}
	if out, code = run("pages", "delete", "cli1"); code != 0 || !strings.Contains(out, "cli1: absent") {
		t.Errorf("delete again: exit %d:\n%s", code, out)
	}
}
