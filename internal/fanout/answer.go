package fanout

import (
	"time"

	"github.com/edgepurge/edgepurge/internal/plan"
)

// Overall statuses of an answer.
const (
	StatusPurged    = "purged"
	StatusPartial   = "partial"
	StatusFailed    = "failed"
	StatusDuplicate = "duplicate"
	StatusDryRun    = "dry_run"
)

// Statuses of one backend's result.
const (
	BackendOK     = "ok"
	BackendFailed = "failed"
	BackendDryRun = "dry_run"
)

// Answer is what edgepurge answers for an event: what it planned, what each
// backend did, and how long it took (PRODUCT.md, "The answer").
type Answer struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Plan    plan.Plan `json:"plan"`
	Results []Result  `json:"results"`
	// DurationMS is the whole purge, every backend included.
	DurationMS float64 `json:"duration_ms"`
}

// Result is one backend's part of an answer.
type Result struct {
	Backend string `json:"backend"`
	Status  string `json:"status"`
	// Items is how many items the backend accepted.
	Items int `json:"items"`
	// Calls is how many API calls the backend made (CDN only).
	Calls      int     `json:"calls,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// Error says what failed, free of credentials.
	Error string `json:"error,omitempty"`
	// ErrorCodes are the CDN's own error codes.
	ErrorCodes []int `json:"error_codes,omitempty"`
	// Retryable says whether the failure may go away on a retry.
	Retryable bool `json:"retryable,omitempty"`
}

// OK reports whether every backend succeeded (or the run was a dry run).
func (a Answer) OK() bool {
	return a.Status == StatusPurged || a.Status == StatusDryRun || a.Status == StatusDuplicate
}

func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// overall folds backend results into the answer's status.
func overall(results []Result) string {
	ok, failed := 0, 0
	for _, r := range results {
		switch r.Status {
		case BackendOK:
			ok++
		case BackendFailed:
			failed++
		}
	}
	switch {
	case failed == 0:
		return StatusPurged
	case ok == 0:
		return StatusFailed
	default:
		return StatusPartial
	}
}
