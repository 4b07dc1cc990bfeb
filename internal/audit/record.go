// Package audit is the audit trail of purges: every purge (hook, manual,
// canary, direct) as a Record in a capped Redis Stream, with an in-memory
// ring serving when Redis cannot be written or read. Records are written
// by one background writer, so a purge's answer never waits on them.
package audit

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/jsonw"
)

// Record is one purge as the audit trail keeps it: sizes and outcomes,
// never the plan's items or any credential.
type Record struct {
	Time time.Time `json:"time"`
	// Source is hook, statuspage, manual, canary or direct.
	Source string `json:"source"`
	// ID is the event id (webhook-id, or the id given to a manual purge).
	ID   string `json:"id"`
	Page string `json:"page,omitempty"`
	Zone string `json:"zone,omitempty"`
	// Status is the answer's status: purged, partial, failed, stale, dry_run.
	Status string `json:"status"`
	// HTTPStatus is the status code answered; 0 for canary and direct.
	HTTPStatus int      `json:"http_status,omitempty"`
	Plan       PlanSize `json:"plan"`
	Results    []Result `json:"results"`
	DurationMS float64  `json:"duration_ms"`
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

// Result is one backend's outcome.
type Result struct {
	Backend string `json:"backend"`
	Status  string `json:"status"`
	Items   int    `json:"items"`
	Calls   int    `json:"calls,omitempty"`
	// Error is the backend's error as answered (free of credentials).
	Error string `json:"error,omitempty"`
}

// FromAnswer makes the record of answer a, answered with httpStatus (0 when
// not over HTTP), for an event of source.
func FromAnswer(source string, a fanout.Answer, httpStatus int, at time.Time) Record {
	p := a.Plan
	r := Record{
		Time: at.UTC(), Source: source, ID: a.ID, Page: p.Page, Zone: p.Zone,
		Status: a.Status, HTTPStatus: httpStatus, DurationMS: a.DurationMS,
		Plan: PlanSize{
			URLs: len(p.URLs), Tags: len(p.Tags), Keys: len(p.Keys) + len(p.KeySets),
			Hosts: len(p.Hosts), Prefixes: len(p.Prefixes), Everything: p.Everything,
		},
		Results: make([]Result, len(a.Results)),
	}
	for i, res := range a.Results {
		r.Results[i] = Result{Backend: res.Backend, Status: res.Status, Items: res.Items, Calls: res.Calls, Error: res.Error}
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

// AppendJSON appends r's JSON to dst: byte for byte what encoding/json
// writes for a Record (the stream's format, which List reads back), without
// reflection. A duration encoding/json cannot encode (NaN, ±Inf) is its
// error, as before.
func (r *Record) AppendJSON(dst []byte) ([]byte, error) {
	if math.IsNaN(r.DurationMS) || math.IsInf(r.DurationMS, 0) {
		_, err := json.Marshal(r)
		return dst, err
	}
	b := append(dst, `{"time":`...)
	b, err := appendTime(b, r.Time)
	if err != nil {
		return dst, err
	}
	b = append(b, `,"source":`...)
	b = jsonw.String(b, r.Source)
	b = append(b, `,"id":`...)
	b = jsonw.String(b, r.ID)
	if r.Page != "" {
		b = append(b, `,"page":`...)
		b = jsonw.String(b, r.Page)
	}
	if r.Zone != "" {
		b = append(b, `,"zone":`...)
		b = jsonw.String(b, r.Zone)
	}
	b = append(b, `,"status":`...)
	b = jsonw.String(b, r.Status)
	if r.HTTPStatus != 0 {
		b = append(b, `,"http_status":`...)
		b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
	}
	b = append(b, `,"plan":{"urls":`...)
	p := &r.Plan
	b = strconv.AppendInt(b, int64(p.URLs), 10)
	b = append(b, `,"tags":`...)
	b = strconv.AppendInt(b, int64(p.Tags), 10)
	b = append(b, `,"keys":`...)
	b = strconv.AppendInt(b, int64(p.Keys), 10)
	if p.Hosts != 0 {
		b = append(b, `,"hosts":`...)
		b = strconv.AppendInt(b, int64(p.Hosts), 10)
	}
	if p.Prefixes != 0 {
		b = append(b, `,"prefixes":`...)
		b = strconv.AppendInt(b, int64(p.Prefixes), 10)
	}
	if p.Everything {
		b = append(b, `,"everything":true`...)
	}
	b = append(b, `},"results":`...)
	if r.Results == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Results {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Results[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"duration_ms":`...)
	b = jsonw.Float(b, r.DurationMS)
	return append(b, '}'), nil
}

func (res *Result) appendJSON(b []byte) []byte {
	b = append(b, `{"backend":`...)
	b = jsonw.String(b, res.Backend)
	b = append(b, `,"status":`...)
	b = jsonw.String(b, res.Status)
	b = append(b, `,"items":`...)
	b = strconv.AppendInt(b, int64(res.Items), 10)
	if res.Calls != 0 {
		b = append(b, `,"calls":`...)
		b = strconv.AppendInt(b, int64(res.Calls), 10)
	}
	if res.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonw.String(b, res.Error)
	}
	return append(b, '}')
}

// appendTime is time.Time's MarshalJSON (RFC 3339 with nanoseconds),
// including its refusal of years outside 0000-9999.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y >= 10000 {
		_, err := t.MarshalJSON()
		return b, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}
