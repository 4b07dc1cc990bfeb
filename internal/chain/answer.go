package chain

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
	// StatusStale: every backend accepted the purge, but the page's edge
	// still served a stale copy after a second purge (answered 502, so the
	// caller retries).
	StatusStale = "stale"
	// StatusJournaled: some backend's part could not be completed in time,
	// and that unfinished part is recorded in the durable journal, to be
	// re-driven in the background (answered 202, with JournalID).
	StatusJournaled = "journaled"
)

// Statuses of one backend's result.
const (
	BackendOK     = "ok"
	BackendFailed = "failed"
	BackendDryRun = "dry_run"
	// BackendSkipped: not run, because an earlier step of the chain
	// failed (see package comment); it is part of what is left to do.
	BackendSkipped = "skipped"
)

// Answer is what edgepurge answers for an event: what it planned, what each
// backend did, and how long it took (PRODUCT.md, "The answer").
// Its encoding/json encoding is the wire format (testdata's golden files
// pin it).
type Answer struct {
	ID      string          `json:"id"`
	Status  string          `json:"status"`
	Plan    plan.Plan       `json:"plan"`
	Results []BackendResult `json:"results"`
	// EdgeChecks is, for a page that asks for it, what its edge served
	// for each purged URL after the purge.
	EdgeChecks []URLCheck `json:"edge_check,omitempty"`
	// Repurge is what each CDN did when the URLs found stale were purged
	// a second time.
	Repurge []BackendResult `json:"repurge,omitempty"`
	// DurationMS is the whole purge, every backend included.
	DurationMS float64 `json:"duration_ms"`
	// JournalID is the journal entry holding the unfinished part, when the
	// status is journaled.
	JournalID string `json:"journal_id,omitempty"`
	// JournalError says why the unfinished part could not be journaled
	// (the answer is then not 2xx, so the caller retries).
	JournalError string `json:"journal_error,omitempty"`
}

// Results of a URLCheck.
const (
	// CheckVerified: the edge served a copy cached after the purge, or none.
	CheckVerified = "verified"
	// CheckStale: the edge still served a copy older than the purge.
	CheckStale = "stale"
	// CheckFailed: the edge could not be asked; freshness is unknown.
	CheckFailed = "failed"
)

// URLCheck is what an edge served for one purged URL after the purge.
type URLCheck struct {
	URL    string `json:"url"`
	Result string `json:"result"`
	// Repurged says the URL was found stale and purged again; BackendResult is
	// then the check made after that second purge.
	Repurged bool `json:"repurged,omitempty"`
	// Age is the edge's Age header, CacheStatus its X-Cache or
	// CF-Cache-Status, as evidence.
	Age         string `json:"age,omitempty"`
	CacheStatus string `json:"cache_status,omitempty"`
	Error       string `json:"error,omitempty"`
}

// BackendResult is one backend's part of an answer.
type BackendResult struct {
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
	// Unsent says the deadline passed before the items reached the
	// backend (rate budget or call slots exhausted): back-pressure, not a
	// backend failure.
	Unsent bool `json:"unsent,omitempty"`
	// Nodes is each cache node's part, for a backend of several nodes
	// (Varnish).
	Nodes []NodeResult `json:"nodes,omitempty"`
	// PurgedBy is "cover" when the page's URLs were purged by its cover
	// (plan.cover: a tag or its hostnames) instead, and Escalation why (the
	// URL budget was the bottleneck); empty for a purge by URL.
	PurgedBy   string `json:"purged_by,omitempty"`
	Escalation string `json:"escalation,omitempty"`
}

// NodeResult is one cache node's part of a backend's result.
type NodeResult struct {
	Node       string  `json:"node"`
	Status     string  `json:"status"`
	Items      int     `json:"items"`
	Calls      int     `json:"calls,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// Backpressure reports whether every failed backend failed only because
// the deadline passed before its items could be sent: the caller should
// retry later (503 with Retry-After) rather than suspect the backend.
func (a *Answer) Backpressure() bool {
	failed := false
	for _, r := range a.Results {
		if r.Status == BackendFailed {
			if !r.Unsent {
				return false
			}
			failed = true
		}
	}
	return failed
}

// StoppedAt is the backend whose failure stopped the chain, and the
// backends skipped after it, in the order they run; "" when none failed.
func (a *Answer) StoppedAt() (failed string, skipped []string) {
	for _, r := range a.Results {
		switch r.Status {
		case BackendFailed:
			failed = r.Backend
		case BackendSkipped:
			skipped = append(skipped, r.Backend)
		}
	}
	return failed, skipped
}

// Merge puts b's results in place of a's results for the same backends (a
// later run of steps a skipped) and updates a's status and duration.
func (a *Answer) Merge(b *Answer) {
	for _, r := range b.Results {
		for i := range a.Results {
			if a.Results[i].Backend == r.Backend {
				a.Results[i] = r
			}
		}
	}
	a.Status = overall(a.Results)
	a.DurationMS += b.DurationMS
}

// OK reports whether every backend succeeded (or the run was a dry run).
func (a *Answer) OK() bool {
	return a.Status == StatusPurged || a.Status == StatusDryRun || a.Status == StatusDuplicate
}

func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// overall folds backend results into the answer's status.
func overall(results []BackendResult) string {
	ok, failed := 0, 0
	for _, r := range results {
		switch r.Status {
		case BackendOK:
			ok++
		case BackendFailed, BackendSkipped:
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
