package config

import (
	"strings"
	"testing"
)

const (
	freeZone = "f0000000000000000000000000000000"
	proZone  = "b0000000000000000000000000000000"
)

// A zone's plan comes from cloudflare.zones, the others' from
// cloudflare.plan (CLOUDFLARE_PLAN).
func TestCloudflareZonePlans(t *testing.T) {
	path := writeFile(t, `
cloudflare:
  zone_id: `+proZone+`
  zones:
    `+freeZone+`:
      plan: free
defaults:
  hosts: [status.example.com]
`)
	cfg, err := Load(path, env(map[string]string{"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_PLAN": "business"}))
	if err != nil {
		t.Fatal(err)
	}
	cf := cfg.Cloudflare
	if cf.PlanOf(freeZone) != "free" || cf.PlanOf(proZone) != "business" || cf.PlanOf("other") != "business" {
		t.Errorf("plans %q %q %q, want free, business, business", cf.PlanOf(freeZone), cf.PlanOf(proZone), cf.PlanOf("other"))
	}
	if got := cf.ZonePlans(); len(got) != 1 || got[freeZone] != "free" {
		t.Errorf("ZonePlans = %v", got)
	}
}

func TestCloudflareZoneErrors(t *testing.T) {
	for body, want := range map[string]string{
		"zones: {" + freeZone + ": {plan: gold}}": `cloudflare.zones["` + freeZone + `"].plan="gold": must be free, pro, business or enterprise`,
		"zones: {" + freeZone + ": {tier: free}}": ".tier: line 3: unknown key",
		"zones: {'bad zone!': {plan: free}}":      `cloudflare.zones["bad zone!"]`,
		"plan: platinum":                          `cloudflare.plan="platinum"`,
	} {
		path := writeFile(t, "cloudflare:\n  zone_id: "+proZone+"\n  "+body+"\ndefaults:\n  hosts: [status.example.com]\n")
		_, err := Load(path, env(map[string]string{"CLOUDFLARE_API_TOKEN": "t"}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", body, err, want)
		}
	}
}
