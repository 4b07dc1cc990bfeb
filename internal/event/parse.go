package event

import (
	"time"
)

// hookBody is the core app's event as it arrives on POST /v1/hooks/events.
type hookBody struct {
	Type         string   `json:"type"`
	PageID       string   `json:"page_id"`
	IncidentID   string   `json:"incident_id"`
	ComponentIDs []string `json:"component_ids"`
	OccurredAt   string   `json:"occurred_at"`
	URLs         []string `json:"urls"`
	Tags         []string `json:"tags"`
	Keys         []string `json:"keys"`
}

// ParseHook parses and validates the body of a core-app event whose
// webhook-id header is id. Unknown fields are accepted. page_id is required;
// a missing or empty type means PageUpdated, because PRODUCT.md makes every
// field but page_id optional and purging the whole page is the safe reading
// of "something on this page changed". A null field counts as absent.
//
// Errors are a *SyntaxError (malformed JSON, with its byte offset) or a
// *FieldError naming the field; IsMalformed is true for both.
func ParseHook(id string, body []byte) (Event, error) {
	if err := ValidateID("webhook-id", id); err != nil {
		return Event{}, err
	}
	var h hookBody
	if err := DecodeObject(body, &h); err != nil {
		return Event{}, err
	}
	return hookEvent(id, h)
}

// hookEvent is the event of a decoded hook body.
func hookEvent(id string, h hookBody) (Event, error) {
	e := Event{
		ID:           id,
		Source:       SourceHook,
		Type:         Type(h.Type),
		PageID:       h.PageID,
		IncidentID:   h.IncidentID,
		ComponentIDs: h.ComponentIDs,
		URLs:         h.URLs,
		Tags:         h.Tags,
		Keys:         h.Keys,
	}
	if e.Type == "" {
		e.Type = PageUpdated
	}
	if h.OccurredAt != "" {
		t, err := ParseTime("occurred_at", h.OccurredAt)
		if err != nil {
			return Event{}, err
		}
		e.OccurredAt = t
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// ParseTime parses an RFC 3339 timestamp (fractional seconds allowed) and
// returns it in UTC; a malformed one is a *FieldError naming field.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &FieldError{Field: field, Reason: "must be an RFC 3339 timestamp such as 2026-11-26T18:00:00Z"}
	}
	return t.UTC(), nil
}
