//go:build live

package fastly

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge/purgetest"
)

// TestLive runs the harmless cases of the contract against Fastly's API
// (`make test-live`), with a throwaway service's credentials.
func TestLive(t *testing.T) {
	env := purgetest.LiveEnv(t, "fastly", "FASTLY_API_TOKEN", "FASTLY_SERVICE_ID", "EDGEPURGE_LIVE_URL", "EDGEPURGE_LIVE_TAG")
	purgetest.Run(t, liveHarness{
		live:    purgetest.NewLive(t, env["EDGEPURGE_LIVE_URL"], env["EDGEPURGE_LIVE_TAG"]),
		token:   env["FASTLY_API_TOKEN"],
		service: env["FASTLY_SERVICE_ID"],
	})
}
