package integration

import (
	"strings"
	"testing"
)

// Need skips outside the integration layer, naming the part and the way to
// run it, and lets the test go on inside it (where a missing part is the
// caller's failure to report).
func TestNeedSkipsOnlyOutsideTheIntegrationLayer(t *testing.T) {
	for _, c := range []struct {
		value    string
		skipped  bool
		contains string
	}{
		{"", true, "needs a part; run `make test` or set EDGEPURGE_INTEGRATION=1"},
		{"0", true, ""},
		{"yes", true, ""},
		{"1", false, ""},
		{"true", false, ""},
	} {
		t.Setenv(Env, c.value)
		var skipped bool
		t.Run("value="+c.value, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			Need(t, "a part")
		})
		if skipped != c.skipped {
			t.Errorf("%s=%q: skipped %v, want %v", Env, c.value, skipped, c.skipped)
		}
		if c.contains != "" && !strings.Contains(reason("a part"), c.contains) {
			t.Errorf("reason %q does not say %q", reason("a part"), c.contains)
		}
	}
}
