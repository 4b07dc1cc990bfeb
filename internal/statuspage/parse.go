package statuspage

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/internal/event"
)

// Parse turns a Statuspage webhook body into an event with Source
// SourceStatuspage and a derived ID (see eventID). Unknown fields are
// accepted. Errors wrap an *event.SyntaxError or an *event.FieldError naming
// the field ("page.id", "incident.incident_updates[1].created_at"), so
// event.IsMalformed tells a 400 apart.
//
// The page is page.id, or incident.page_id or component.page_id when page is
// absent. An incident wins over a component_update if a body has both.
func Parse(body []byte) (event.Event, error) {
	var n notification
	if err := event.DecodeObject(body, &n); err != nil {
		return event.Event{}, fmt.Errorf("statuspage notification: %w", err)
	}
	return notificationEvent(n)
}

// notificationEvent is the event of a decoded notification.
func notificationEvent(n notification) (event.Event, error) {
	e, err := toEvent(n)
	if err != nil {
		return event.Event{}, fmt.Errorf("statuspage notification: %w", err)
	}
	return e, nil
}

func toEvent(n notification) (event.Event, error) {
	pageID, err := pageIDOf(n)
	if err != nil {
		return event.Event{}, err
	}
	var e event.Event
	switch {
	case n.Incident != nil:
		e, err = incidentEvent(pageID, n.Incident)
	case n.ComponentUpdate != nil:
		e, err = componentEvent(pageID, n.ComponentUpdate, n.Component)
	default:
		return event.Event{}, &event.FieldError{Field: "incident", Reason: "neither incident nor component_update is present"}
	}
	if err != nil {
		return event.Event{}, err
	}
	e.Source = event.SourceStatuspage
	e.PageID = pageID
	if err := e.Validate(); err != nil {
		return event.Event{}, err
	}
	return e, nil
}

func pageIDOf(n notification) (string, error) {
	field, id := "page.id", ""
	switch {
	case n.Page != nil:
		id = n.Page.ID
	case n.Incident != nil && n.Incident.PageID != "":
		field, id = "incident.page_id", n.Incident.PageID
	case n.Component != nil && n.Component.PageID != "":
		field, id = "component.page_id", n.Component.PageID
	}
	if err := event.ValidateID(field, id); err != nil {
		return "", err
	}
	return id, nil
}

func incidentEvent(pageID string, inc *incident) (event.Event, error) {
	if err := event.ValidateID("incident.id", inc.ID); err != nil {
		return event.Event{}, err
	}
	if inc.ScheduledFor != "" {
		if _, err := event.ParseTime("incident.scheduled_for", inc.ScheduledFor); err != nil {
			return event.Event{}, err
		}
	}
	newest, occurredAt, err := newestUpdate(inc.IncidentUpdates)
	if err != nil {
		return event.Event{}, err
	}
	if inc.UpdatedAt != "" {
		updatedAt, err := event.ParseTime("incident.updated_at", inc.UpdatedAt)
		if err != nil {
			return event.Event{}, err
		}
		if newest == nil {
			occurredAt = updatedAt
		}
	}
	components, err := incidentComponents(inc)
	if err != nil {
		return event.Event{}, err
	}
	idParts := []string{pageID, "incident", inc.ID, "", "", inc.Status, inc.UpdatedAt}
	if newest != nil {
		idParts[3], idParts[4] = newest.ID, newest.UpdatedAt
	}
	return event.Event{
		ID:           eventID(idParts...),
		Type:         incidentType(inc),
		IncidentID:   inc.ID,
		ComponentIDs: components,
		OccurredAt:   occurredAt,
	}, nil
}

// incidentType maps an incident's status to an event type. Maintenance
// statuses are scheduled, in_progress, verifying and completed; an unknown
// one counts as scheduled. Statuspage sends every update of an incident in
// each notification, so a single update means the incident is new.
func incidentType(inc *incident) event.Type {
	if inc.ScheduledFor != "" {
		switch inc.Status {
		case "in_progress", "verifying":
			return event.MaintenanceStarted
		case "completed", "resolved", "postmortem":
			return event.MaintenanceCompleted
		default:
			return event.MaintenanceScheduled
		}
	}
	switch {
	case inc.Status == "resolved" || inc.Status == "postmortem":
		return event.IncidentResolved
	case len(inc.IncidentUpdates) == 1:
		return event.IncidentCreated
	default:
		return event.IncidentUpdated
	}
}

// newestUpdate returns the update with the latest created_at (the first of
// equals, as Statuspage lists updates newest first) and that time, checking
// every update's timestamps. Updates without created_at are not candidates.
func newestUpdate(updates []incidentUpdate) (*incidentUpdate, time.Time, error) {
	var newest *incidentUpdate
	var newestAt time.Time
	for i := range updates {
		u := &updates[i]
		prefix := "incident.incident_updates[" + strconv.Itoa(i) + "]."
		if u.UpdatedAt != "" {
			if _, err := event.ParseTime(prefix+"updated_at", u.UpdatedAt); err != nil {
				return nil, time.Time{}, err
			}
		}
		if u.CreatedAt == "" {
			continue
		}
		at, err := event.ParseTime(prefix+"created_at", u.CreatedAt)
		if err != nil {
			return nil, time.Time{}, err
		}
		if newest == nil || at.After(newestAt) {
			newest, newestAt = u, at
		}
	}
	return newest, newestAt, nil
}

// incidentComponents lists the ids of incident.components[] and then of
// every update's affected_components[], without duplicates, in that order.
// An affected component without a code is skipped: it names no page to purge.
func incidentComponents(inc *incident) ([]string, error) {
	var ids []string
	add := func(field, id string) error {
		if err := event.ValidateID(field, id); err != nil {
			return err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		return nil
	}
	for i, c := range inc.Components {
		if err := add("incident.components["+strconv.Itoa(i)+"].id", c.ID); err != nil {
			return nil, err
		}
	}
	for i, u := range inc.IncidentUpdates {
		for j, a := range u.AffectedComponents {
			if a.Code == "" {
				continue
			}
			field := fmt.Sprintf("incident.incident_updates[%d].affected_components[%d].code", i, j)
			if err := add(field, a.Code); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

func componentEvent(pageID string, cu *componentUpdate, c *component) (event.Event, error) {
	// component.id and component_update.component_id should agree; if they
	// do not, purging both is the safe reading.
	var ids []string
	if c != nil && c.ID != "" {
		if err := event.ValidateID("component.id", c.ID); err != nil {
			return event.Event{}, err
		}
		ids = append(ids, c.ID)
	}
	if cu.ComponentID != "" && !slices.Contains(ids, cu.ComponentID) {
		if err := event.ValidateID("component_update.component_id", cu.ComponentID); err != nil {
			return event.Event{}, err
		}
		ids = append(ids, cu.ComponentID)
	}
	if len(ids) == 0 {
		return event.Event{}, &event.FieldError{Field: "component.id", Reason: "required: neither component.id nor component_update.component_id is set"}
	}
	var occurredAt time.Time
	if cu.CreatedAt != "" {
		t, err := event.ParseTime("component_update.created_at", cu.CreatedAt)
		if err != nil {
			return event.Event{}, err
		}
		occurredAt = t
	}
	return event.Event{
		ID:           eventID(pageID, "component", cu.ID, cu.CreatedAt, ids[0], cu.NewStatus),
		Type:         event.ComponentUpdated,
		ComponentIDs: ids,
		OccurredAt:   occurredAt,
	}, nil
}
