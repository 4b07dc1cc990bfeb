package chain

import (
	"context"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
)

func TestRunOnPurgesTheNamedBackendsOnly(t *testing.T) {
	varnish, cf, keys := &scriptedPurger{name: "varnish"}, &scriptedPurger{name: "cloudflare"}, &scriptedKeys{}
	f := New(Config{CDN: []purge.Purger{varnish, cf}, Keys: keys})

	a := runOn(f, context.Background(), []string{"cloudflare"}, "id", samplePlan)
	if a.Status != StatusPurged || len(a.Results) != 1 || a.Results[0].Backend != "cloudflare" || a.Results[0].Items != 3 {
		t.Errorf("cloudflare only: %+v", a)
	}
	if varnish.calls.Load() != 0 || cf.calls.Load() != 1 || keys.calls.Load() != 0 {
		t.Errorf("calls: varnish %d, cloudflare %d, redis %d; want 0 1 0", varnish.calls.Load(), cf.calls.Load(), keys.calls.Load())
	}

	a = runOn(f, context.Background(), []string{"redis", "varnish"}, "id", samplePlan)
	if len(a.Results) != 2 || a.Results[0].Backend != "varnish" || a.Results[1].Backend != "redis" || a.Results[1].Items != 1 {
		t.Errorf("varnish and redis: %+v", a.Results)
	}
	if f.KeysBackend() != "redis" || New(Config{}).KeysBackend() != "" {
		t.Errorf("KeysBackend: %q", f.KeysBackend())
	}
	// The original is untouched.
	if a := run(f, context.Background(), "id", samplePlan, false); len(a.Results) != 3 {
		t.Errorf("Run after Only: %+v", a.Results)
	}
}
