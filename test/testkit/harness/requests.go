package harness

import (
	"errors"
	"os"
	"path/filepath"
)

// StatuspageIncident posts examples/statuspage-incident.json.
func (h *H) StatuspageIncident() (int, []byte) {
	h.T.Helper()
	body, err := readRepoFile("examples/statuspage-incident.json")
	if err != nil {
		h.T.Fatal(err)
	}
	return h.Post("/v1/hooks/statuspage/"+TestSPToken, body, nil)
}

// ManualPurge posts a manual purge with the API token.
func (h *H) ManualPurge(body string) (int, []byte) {
	h.T.Helper()
	return h.Post("/v1/purge", []byte(body), map[string]string{"Authorization": "Bearer " + TestAPIToken})
}

// readRepoFile reads the file at rel from the module root, found by
// walking up from the working directory (a test's package directory) to
// go.mod.
func readRepoFile(rel string) ([]byte, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return os.ReadFile(filepath.Join(dir, rel))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
