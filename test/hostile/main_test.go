package hostile

import (
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

// TestMain runs the package's tests only in the integration layer (`make
// test`): every one runs the service in-process on Redis.
func TestMain(m *testing.M) {
	integration.Main(m, "Redis at 127.0.0.1:6379")
}
