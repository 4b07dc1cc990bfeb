// Package journal is the durable re-drive journal: when a backend's part
// of an event could not be completed within the deadline for a reason that
// may pass (the CDN failing or throttling, its circuit open, the budget
// spent, Redis unreachable), that unfinished part is written to a Redis
// Stream and the event is answered 202. A Redriver in every instance reads
// the stream through a consumer group, re-purges through the same purgers
// (coalescing, batching, rate limits), acknowledges on success, backs off
// on failure, takes over the entries of a dead instance (XAUTOCLAIM), and
// moves entries that keep failing past their maximum age to a dead-letter
// stream, where they stay until replayed.
package journal

import (
	"slices"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// Entry is the unfinished part of one event: what is left to purge, on
// which backends, and its history.
type Entry struct {
	// ID is the stream entry's id; empty before the entry is written.
	ID string `json:"id,omitempty"`
	// EventID is the event's id (webhook-id, or a manual purge's id).
	EventID string `json:"event_id"`
	// Source is where the event came from: hook, statuspage, manual.
	Source string `json:"source"`
	Page   string `json:"page,omitempty"`
	Zone   string `json:"zone,omitempty"`
	// Backends are the backends whose part is unfinished, by name
	// (cloudflare, varnish, redis): the one that failed and the ones
	// skipped after it. Only they are purged again, in the chain's
	// order (Redis first, then the CDNs inner to outer).
	Backends []string `json:"backends"`
	// The CDN part, when a CDN backend is unfinished: all of it, since a
	// failed CDN call does not say which items went through (purging an
	// item twice is harmless; not purging it is not).
	URLs       []string `json:"urls,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Hosts      []string `json:"hosts,omitempty"`
	Prefixes   []string `json:"prefixes,omitempty"`
	Everything bool     `json:"everything,omitempty"`
	// The Redis part, when the Redis side is unfinished.
	Keys    []string `json:"keys,omitempty"`
	KeySets []string `json:"key_sets,omitempty"`
	// CDNOrder is the page's order of the CDN backends.
	CDNOrder []string `json:"cdn_order,omitempty"`
	// Soft says the CDN part is purged soft (purge.Request.Soft).
	Soft bool `json:"soft,omitempty"`
	// Cover is the page's cover, so that a re-drive in a storm may
	// escalate too.
	Cover *plan.Cover `json:"cover,omitempty"`
	// FirstFailure is when the event's purge first failed.
	FirstFailure time.Time `json:"first_failure"`
	// Attempts is how many purges of this part were made: 1 (the request's
	// own) when written; listings add the re-drives since.
	Attempts int `json:"attempts"`
	// Error is the last failure.
	Error string `json:"error,omitempty"`
	// TraceParent and TraceState are the W3C trace context of the
	// event's sampled trace, when tracing is on: each re-drive starts a
	// trace linked to it.
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
}

// Plan is the entry's unfinished part as a plan to run again.
func (e Entry) Plan() plan.Plan {
	return plan.Plan{
		Page: e.Page, Zone: e.Zone,
		URLs: orEmpty(e.URLs), Tags: orEmpty(e.Tags), Hosts: e.Hosts, Prefixes: e.Prefixes, Everything: e.Everything,
		Keys: orEmpty(e.Keys), KeySets: e.KeySets, CDNOrder: e.CDNOrder, SoftPurge: e.Soft, Cover: e.Cover,
	}
}

// Items counts what the entry still has to purge.
func (e Entry) Items() int {
	n := len(e.URLs) + len(e.Tags) + len(e.Hosts) + len(e.Prefixes) + len(e.Keys) + len(e.KeySets)
	if e.Everything {
		n++
	}
	return n
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Unfinished returns the journal entry of answer a's unfinished part (the
// failed step and the steps skipped after it, re-driven in the same order),
// and whether there is one that may be journaled: at least one backend failed,
// and every failure may pass on a later attempt (retryable, or never sent
// for lack of budget). A permanent refusal (a bad zone, a bad token) is
// not journaled: retrying it cannot help, the caller must hear about it.
// keysBackend names the Redis side's results ("redis").
func Unfinished(source string, a chain.Answer, keysBackend string, at time.Time) (Entry, bool) {
	e := Entry{EventID: a.ID, Source: source, Page: a.Plan.Page, Zone: a.Plan.Zone, FirstFailure: at.UTC(), Attempts: 1}
	for _, r := range a.Results {
		switch r.Status {
		case chain.BackendSkipped:
			// Left for after the failed step: re-driven with it, in order.
			e.Backends = append(e.Backends, r.Backend)
			continue
		case chain.BackendFailed:
		default:
			continue
		}
		if !r.Retryable && !r.Unsent {
			return Entry{}, false
		}
		e.Backends = append(e.Backends, r.Backend)
		if e.Error != "" {
			e.Error += "; "
		}
		e.Error += r.Backend + ": " + r.Error
	}
	if len(e.Backends) == 0 {
		return Entry{}, false
	}
	p := a.Plan
	for _, b := range e.Backends {
		if b == keysBackend {
			e.Keys, e.KeySets = slices.Clone(p.Keys), slices.Clone(p.KeySets)
			continue
		}
		e.URLs, e.Tags, e.Hosts, e.Prefixes, e.Everything = slices.Clone(p.URLs), slices.Clone(p.Tags), slices.Clone(p.Hosts), slices.Clone(p.Prefixes), p.Everything
		e.CDNOrder, e.Soft, e.Cover = slices.Clone(p.CDNOrder), p.SoftPurge, p.Cover
	}
	return e, true
}

// Dead is an entry that kept failing past the journal's maximum age (or
// was refused for good by a backend), as kept in the dead-letter stream.
type Dead struct {
	Entry
	// JournalID is the entry's id in the journal before it died.
	JournalID string `json:"journal_id"`
	// DeadAt is when it moved to the dead-letter stream.
	DeadAt time.Time `json:"dead_at"`
	// Reason says why.
	Reason string `json:"reason"`
}

// Pending is a journal entry as listed, with its delivery state.
type Pending struct {
	Entry
	// Consumer is the instance holding the entry (hostname-pid); empty
	// when no instance has read it yet.
	Consumer string `json:"consumer,omitempty"`
	// IdleMS is how long it has sat untouched with that instance.
	IdleMS int64 `json:"idle_ms,omitempty"`
}
