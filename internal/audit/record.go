// Package audit is the audit trail of purges: every purge (hook, manual,
// canary, direct) as a Record in a capped Redis Stream, with an in-memory
// ring serving when Redis cannot be written or read. Records are written
// by one background writer, so a purge's answer never waits on them. The
// changes of pages made through the pages API have a trail of their own
// (PageTrail), written as each change is made.
package audit

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
)

// Record is one purge as the audit trail keeps it: sizes and outcomes,
// never the plan's items or any credential.
type Record struct {
	Time time.Time `json:"time"`
	// Source is hook, statuspage, manual, canary, direct or redrive.
	Source string `json:"source"`
	// ID is the event id (webhook-id, or the id given to a manual purge).
	ID   string `json:"id"`
	Page string `json:"page,omitempty"`
	Zone string `json:"zone,omitempty"`
	// Status is the answer's status: purged, partial, failed, stale, journaled, dry_run.
	Status string `json:"status"`
	// HTTPStatus is the status code answered; 0 for canary and direct.
	HTTPStatus int             `json:"http_status,omitempty"`
	Plan       PlanSize        `json:"plan"`
	Results    []BackendResult `json:"results"`
	DurationMS float64         `json:"duration_ms"`
}

// PlanSize counts a plan's items.
type PlanSize struct {
	URLs       int  `json:"urls"`
	Tags       int  `json:"tags"`
	Keys       int  `json:"keys"`
	Hosts      int  `json:"hosts,omitempty"`
	Prefixes   int  `json:"prefixes,omitempty"`
	Everything bool `json:"everything,omitempty"`
}

// BackendResult is one backend's outcome.
type BackendResult struct {
	Backend string `json:"backend"`
	Status  string `json:"status"`
	Items   int    `json:"items"`
	Calls   int    `json:"calls,omitempty"`
	// Error is the backend's error as answered (free of credentials).
	Error string `json:"error,omitempty"`
}

// FromAnswer makes the record of answer a, answered with httpStatus (0 when
// not over HTTP), for an event of source.
func FromAnswer(source string, a *chain.Answer, httpStatus int, at time.Time) Record {
	p := &a.Plan
	r := Record{
		Time: at.UTC(), Source: source, ID: a.ID, Page: p.Page, Zone: p.Zone,
		Status: a.Status, HTTPStatus: httpStatus, DurationMS: a.DurationMS,
		Plan: PlanSize{
			URLs: len(p.URLs), Tags: len(p.Tags), Keys: len(p.Keys) + len(p.KeySets),
			Hosts: len(p.Hosts), Prefixes: len(p.Prefixes), Everything: p.Everything,
		},
		Results: make([]BackendResult, len(a.Results)),
	}
	for i, res := range a.Results {
		r.Results[i] = BackendResult{Backend: res.Backend, Status: res.Status, Items: res.Items, Calls: res.Calls, Error: res.Error}
	}
	return r
}

// Filter selects records; zero fields select everything.
type Filter struct {
	// Limit is the most records returned; 0 means DefaultLimit.
	Limit  int
	PageID string
	Status string
	// Source selects one source (hook, manual, canary, ...).
	Source string
}

// Limits of Filter.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Statuses and Sources are what a record may hold and so what a Filter
// may select.
var (
	Statuses = []string{chain.StatusPurged, chain.StatusPartial, chain.StatusFailed, chain.StatusStale, chain.StatusJournaled, chain.StatusDryRun}
	Sources  = []string{"hook", "statuspage", "manual", "canary", "direct", "redrive"}
)

// Check refuses a status or source no record holds, which would otherwise
// select nothing and look like an empty trail.
func (f Filter) Check() error {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return errors.New("status must be one of " + strings.Join(Statuses, ", "))
	}
	if f.Source != "" && !slices.Contains(Sources, f.Source) {
		return errors.New("source must be one of " + strings.Join(Sources, ", "))
	}
	return nil
}

func (f Filter) match(r Record) bool {
	return (f.PageID == "" || r.Page == f.PageID) &&
		(f.Status == "" || r.Status == f.Status) &&
		(f.Source == "" || r.Source == f.Source)
}

func (f Filter) limit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}
