package config

import (
	"strings"
	"testing"
)

// The AKAMAI_* variables and EDGEPURGE_HOSTS alone are a valid setup;
// what is missing or wrong is named with its variable.
func TestAkamaiFromTheEnvironmentAlone(t *testing.T) {
	vars := map[string]string{
		"AKAMAI_HOST": "akab-x.luna.akamaiapis.net", "AKAMAI_CLIENT_TOKEN": "akab-ct", "AKAMAI_CLIENT_SECRET": "c2VjcmV0",
		"AKAMAI_ACCESS_TOKEN": "akab-at", "EDGEPURGE_HOSTS": "{page_id}.status.example.com",
	}
	cfg, err := Load("", env(vars))
	if err != nil {
		t.Fatalf("an Akamai-only config: %v", err)
	}
	a := cfg.Akamai
	if !a.Enabled() || a.Network != "production" || a.BaseURL != "https://akab-x.luna.akamaiapis.net" || a.ClientSecret.Value() != "c2VjcmV0" {
		t.Errorf("akamai = %+v", a)
	}
	vars["AKAMAI_NETWORK"] = "qa"
	delete(vars, "AKAMAI_CLIENT_SECRET")
	_, err = Load("", env(vars))
	for _, want := range []string{`akamai.network="qa": must be production or staging`, "akamai.client_secret (AKAMAI_CLIENT_SECRET)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// A page covered by its hostnames cannot be purged by Akamai.
func TestAkamaiRefusesHostCovers(t *testing.T) {
	path := writeFile(t, `
akamai: {host: akab-x.luna.akamaiapis.net, client_token: a, client_secret: b, access_token: c}
pages:
  p1:
    hosts: [status.acme.test]
    cover: {hosts: true}
`)
	_, err := Load(path, env(nil))
	if err == nil || !strings.Contains(err.Error(), "pages.p1.cover.hosts: Akamai Fast Purge cannot purge by hostname") {
		t.Errorf("err %v", err)
	}
}

// With Akamai on, tag templates, cover tags, the probe's and the
// canary's tags must be cache tags Akamai allows; the error suggests one.
func TestAkamaiTagsAreChecked(t *testing.T) {
	path := writeFile(t, `
akamai: {host: akab-x.luna.akamaiapis.net, client_token: a, client_secret: b, access_token: c}
canary: {tag: "canary tag"}
pages:
  p1:
    hosts: [status.acme.test]
    tags: ["page:{page_id}", "ok-{page_id}"]
    cover: {tags: ["all pages"]}
`)
	_, err := Load(path, env(nil))
	for _, want := range []string{
		`pages.p1: tag "page:{page_id}": Akamai cache tags cannot contain ':'`, `use e.g. "page-{page_id}"`,
		`pages.p1: tag "all pages": Akamai cache tags cannot contain ' '`, `canary.tag="canary tag"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "ok-{page_id}") {
		t.Errorf("a good template refused: %v", err)
	}
}
