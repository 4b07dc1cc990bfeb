// Package statuspage turns Atlassian Statuspage webhook notifications (and
// look-alikes such as Instatus) into events.
package statuspage

// notification is a Statuspage webhook body: meta, page, and either an
// incident or a component_update with its component. Only the fields edgepurge
// reads are declared: every other field a delivery carries (meta, names,
// bodies, impact, postmortem_*, twitter_*, position, ...) is ignored, so a
// change in any of them cannot turn a delivery into a 400.
type notification struct {
	Page            *page            `json:"page"`
	Incident        *incident        `json:"incident"`
	ComponentUpdate *componentUpdate `json:"component_update"`
	Component       *component       `json:"component"`
}

type page struct {
	ID string `json:"id"`
}

// incident is an incident or, when ScheduledFor is set, a scheduled
// maintenance. Null timestamps decode as "".
type incident struct {
	ID              string           `json:"id"`
	PageID          string           `json:"page_id"`
	Status          string           `json:"status"`
	UpdatedAt       string           `json:"updated_at"`
	ScheduledFor    string           `json:"scheduled_for"`
	IncidentUpdates []incidentUpdate `json:"incident_updates"`
	Components      []component      `json:"components"`
}

type incidentUpdate struct {
	ID                 string              `json:"id"`
	CreatedAt          string              `json:"created_at"`
	UpdatedAt          string              `json:"updated_at"`
	AffectedComponents []affectedComponent `json:"affected_components"`
}

// affectedComponent is a component an incident update changed; Code is the
// component's id.
type affectedComponent struct {
	Code string `json:"code"`
}

type componentUpdate struct {
	ID          string `json:"id"`
	ComponentID string `json:"component_id"`
	CreatedAt   string `json:"created_at"`
	NewStatus   string `json:"new_status"`
}

type component struct {
	ID     string `json:"id"`
	PageID string `json:"page_id"`
}
