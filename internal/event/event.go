// Package event defines the change notifications edgepurge acts on, whatever
// sender they came from, and how a notification's fields are validated.
package event

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the kind of change an event reports.
type Type string

// The event types of PRODUCT.md.
const (
	IncidentCreated      Type = "incident.created"
	IncidentUpdated      Type = "incident.updated"
	IncidentResolved     Type = "incident.resolved"
	ComponentUpdated     Type = "component.updated"
	MaintenanceScheduled Type = "maintenance.scheduled"
	MaintenanceStarted   Type = "maintenance.started"
	MaintenanceCompleted Type = "maintenance.completed"
	PageUpdated          Type = "page.updated"
)

// Types lists every known Type, in the order PRODUCT.md gives them.
var Types = []Type{
	IncidentCreated, IncidentUpdated, IncidentResolved, ComponentUpdated,
	MaintenanceScheduled, MaintenanceStarted, MaintenanceCompleted, PageUpdated,
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// IsIncident reports whether t is about an incident.
func (t Type) IsIncident() bool {
	return t == IncidentCreated || t == IncidentUpdated || t == IncidentResolved
}

// IsMaintenance reports whether t is about a scheduled maintenance.
func (t Type) IsMaintenance() bool {
	return t == MaintenanceScheduled || t == MaintenanceStarted || t == MaintenanceCompleted
}

// Source says which endpoint an event came in through.
type Source string

// The sources of events.
const (
	SourceHook       Source = "hook"       // POST /v1/hooks/events
	SourceStatuspage Source = "statuspage" // POST /v1/hooks/statuspage/{token}
	SourceManual     Source = "manual"     // POST /v1/purge and the CLI
	SourceDirect     Source = "direct"     // edgepurge purge --direct: in-process, no server
)

// Redelivered reports whether the source's sender retries a delivery under
// the same id, so that a repeat of one already purged is a duplicate. A
// person's purge is always carried out.
func (s Source) Redelivered() bool { return s == SourceHook || s == SourceStatuspage }

// Event is one change of a status page whose public caches must be purged.
type Event struct {
	// ID identifies the delivery (the webhook-id header, or an id derived
	// from a Statuspage notification).
	ID     string
	Source Source
	Type   Type
	// PageID is the status page; required.
	PageID       string
	IncidentID   string
	ComponentIDs []string
	// OccurredAt is when the change happened according to the sender; zero
	// when unknown.
	OccurredAt time.Time

	// URLs, Tags and Keys are purged in addition to what the plan derives.
	URLs []string
	Tags []string
	Keys []string
	// Hosts, Prefixes and Everything come only from a manual purge.
	Hosts      []string
	Prefixes   []string
	Everything bool
}

// FieldError is an event field that is missing or malformed. Its message
// names the field, so that a 400 answer tells the sender what to fix.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("field %q: %s", clipField(e.Field), e.Reason)
}

// maxFieldInMessage bounds a field's name in a message: an unknown field's
// name comes from the sender and may be kilobytes long.
const maxFieldInMessage = 64

// clipField shortens a field's name for a message, on a rune boundary.
func clipField(name string) string {
	name = strings.ToValidUTF8(name, "?")
	if len(name) <= maxFieldInMessage {
		return name
	}
	cut := maxFieldInMessage
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}
