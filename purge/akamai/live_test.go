//go:build live

package akamai_test

import (
	"cmp"
	"os"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/purge/purgetest"
)

// TestLive runs the harmless cases of the contract against Fast Purge
// (`make test-live`) with an API client's credentials: it only invalidates
// URLs and tags under the probes, on staging unless AKAMAI_NETWORK says
// production.
func TestLive(t *testing.T) {
	env := purgetest.LiveEnv(t, "akamai", "AKAMAI_HOST", "AKAMAI_CLIENT_TOKEN", "AKAMAI_CLIENT_SECRET", "AKAMAI_ACCESS_TOKEN",
		"EDGEPURGE_LIVE_URL", "EDGEPURGE_LIVE_TAG")
	cfg := akamai.Config{
		Host: env["AKAMAI_HOST"], ClientToken: purge.Secret(env["AKAMAI_CLIENT_TOKEN"]),
		ClientSecret: purge.Secret(env["AKAMAI_CLIENT_SECRET"]), AccessToken: purge.Secret(env["AKAMAI_ACCESS_TOKEN"]),
		Network: cmp.Or(os.Getenv("AKAMAI_NETWORK"), akamai.NetworkStaging),
	}
	purgetest.Run(t, liveHarness{
		live:        purgetest.NewLive(t, env["EDGEPURGE_LIVE_URL"], env["EDGEPURGE_LIVE_TAG"]),
		cfg:         cfg,
		wrongSecret: "cHVyZ2V0ZXN0LW5vdC1hLXNlY3JldC0wMDAwMDAwMDA=",
	})
}
