//go:build live

package cloudflare

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge/purgetest"
)

// TestLive runs the harmless cases of the contract against Cloudflare's
// API (`make test-live`), with a throwaway zone's credentials.
func TestLive(t *testing.T) {
	env := purgetest.LiveEnv(t, "cloudflare", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ZONE_ID", "EDGEPURGE_LIVE_URL", "EDGEPURGE_LIVE_TAG")
	purgetest.Run(t, liveHarness{
		live:  purgetest.NewLive(t, env["EDGEPURGE_LIVE_URL"], env["EDGEPURGE_LIVE_TAG"]),
		token: env["CLOUDFLARE_API_TOKEN"],
		zone:  env["CLOUDFLARE_ZONE_ID"],
	})
}
