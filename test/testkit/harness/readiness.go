package harness

import (
	"encoding/json"

	"github.com/edgepurge/edgepurge/internal/health"
)

// Readyz is the body of /readyz.
type Readyz struct {
	Ready    bool     `json:"ready"`
	Failing  []string `json:"failing"`
	Degraded []string `json:"degraded"`
}

// Readyz reads /readyz.
func (h *H) Readyz() (int, Readyz) {
	code, body := h.Get("/readyz")
	var r Readyz
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		h.T.Fatalf("readyz: %v: %s", err, body)
	}
	return code, r
}

// WaitFor polls /readyz until ok holds for its status and body, failing
// the test after 500 tries.
func (h *H) WaitFor(ok func(int, Readyz) bool) {
	h.T.Helper()
	for range 500 {
		if code, r := h.Readyz(); ok(code, r) {
			return
		}
		Sleep()
	}
	code, body := h.Get("/readyz")
	h.T.Fatalf("readiness never reached the expected state: %d %s", code, body)
}

// VerboseReadyz is the body of /readyz?verbose.
type VerboseReadyz struct {
	Ready    bool            `json:"ready"`
	Failing  []string        `json:"failing"`
	Degraded []string        `json:"degraded"`
	Checks   []health.Status `json:"checks"`
}

// Check returns the named check of r, and whether there is one.
func (r VerboseReadyz) Check(name string) (health.Status, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return health.Status{}, false
}

// allPass reports whether every check ran and passes, the shared ones
// included: the state a test wants before it starts.
func allPass(checks []health.Status) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// VerboseReadyz reads /readyz?verbose.
func (h *H) VerboseReadyz() (int, VerboseReadyz) {
	code, body := h.Get("/readyz?verbose")
	var r VerboseReadyz
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		h.T.Fatalf("readyz?verbose: %v: %s", err, body)
	}
	return code, r
}
