package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVarnishFromTheEnvironmentAlone(t *testing.T) {
	cfg, err := Load("", env(map[string]string{
		"EDGEPURGE_VARNISH_URLS": "http://127.0.0.1:6081, http://10.0.0.2:6081/",
		"EDGEPURGE_HOSTS":        "{page_id}.status.example.com",
	}))
	if err != nil {
		t.Fatalf("a Varnish-only config without dry run: %v", err)
	}
	if !slices.Equal(cfg.Varnish.Nodes, []string{"http://127.0.0.1:6081", "http://10.0.0.2:6081/"}) || cfg.DryRun || cfg.Cloudflare.Enabled() {
		t.Errorf("varnish = %+v, dry run %v", cfg.Varnish, cfg.DryRun)
	}
	if cfg.Varnish.Timeout != 5*time.Second || !slices.Equal(cfg.CDNOrder, []string{"varnish", "fastly", "akamai", "cloudflare", "cloudfront"}) {
		t.Errorf("defaults: timeout %s, order %q", cfg.Varnish.Timeout, cfg.CDNOrder)
	}
}

func TestVarnishAndOrdersFromYAML(t *testing.T) {
	path := writeFile(t, `
varnish:
  nodes: [http://127.0.0.1:6081]
  soft_purge: true
  timeout: 2s
cdn_order: [cloudflare, varnish]
pages:
  p1:
    hosts: [status.acme.test]
    cdn_order: [varnish]
    edge_check: {enabled: true, edge: "http://127.0.0.1:6081"}
`)
	cfg, err := Load(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pages["p1"]
	if !cfg.Varnish.SoftPurge || cfg.Varnish.Timeout != 2*time.Second || !slices.Equal(cfg.CDNOrder, []string{"cloudflare", "varnish"}) ||
		!slices.Equal(p.CDNOrder, []string{"varnish"}) || p.EdgeCheck == nil || !p.EdgeCheck.Enabled || p.EdgeCheck.Edge != "http://127.0.0.1:6081" {
		t.Errorf("config %+v, page %+v", cfg, p)
	}
}

func TestVarnishValidation(t *testing.T) {
	path := writeFile(t, `
varnish:
  nodes: ["127.0.0.1:6081", "http://ok:6081", "http://x/path"]
cdn_order: [varnish, limelight]
pages:
  p1:
    hosts: [status.acme.test]
    cdn_order: [varnish, varnish]
    edge_check: {enabled: true}
`)
	_, err := Load(path, env(nil))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`varnish.nodes[0]: "127.0.0.1:6081": want http(s)://host:port`,
		`varnish.nodes[2]: "http://x/path"`,
		`cdn_order: "limelight": must be one of varnish, fastly, akamai, cloudflare, cloudfront`,
		`pages.p1.cdn_order: "varnish" listed twice`,
		`pages.p1.edge_check.edge: "": want http(s)://host:port`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "nodes[1]") {
		t.Errorf("a good node was refused: %v", err)
	}
}
