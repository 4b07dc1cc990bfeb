//go:build live

package cloudfront

import (
	"testing"

	"github.com/edgepurge/edgepurge/purge/purgetest"
)

// TestLive runs the harmless cases of the contract against CloudFront's
// API (`make test-live`), on a throwaway distribution, with credentials
// from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or AWS_PROFILE). Each case waits for its
// invalidation to be Completed, which on CloudFront takes minutes: run it
// with a long -timeout. Every case invalidates a few paths of the
// account's monthly allowance.
func TestLive(t *testing.T) {
	env := purgetest.LiveEnv(t, "cloudfront", "CLOUDFRONT_DISTRIBUTION_ID", "EDGEPURGE_LIVE_URL", "EDGEPURGE_LIVE_TAG")
	purgetest.Run(t, liveHarness{
		live: purgetest.NewLive(t, env["EDGEPURGE_LIVE_URL"], env["EDGEPURGE_LIVE_TAG"]),
		dist: env["CLOUDFRONT_DISTRIBUTION_ID"],
	})
}
