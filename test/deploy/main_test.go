package deploy_test

import (
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

// TestMain runs the package's tests only in the integration layer (`make
// test`): each runs promtool, or the service in-process on Redis.
func TestMain(m *testing.M) {
	integration.Main(m, "promtool and Redis at 127.0.0.1:6379")
}
