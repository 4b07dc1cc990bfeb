package event

// ManualRequest is the body of POST /v1/purge: a person on call purging by
// hand, through the CLI or curl.
type ManualRequest struct {
	PageID       string   `json:"page_id,omitempty"`
	IncidentID   string   `json:"incident_id,omitempty"`
	ComponentIDs []string `json:"component_ids,omitempty"`
	URLs         []string `json:"urls,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Prefixes     []string `json:"prefixes,omitempty"`
	Hosts        []string `json:"hosts,omitempty"`
	Keys         []string `json:"keys,omitempty"`
	Everything   bool     `json:"everything,omitempty"`
	DryRun       bool     `json:"dry_run,omitempty"`
}

// ParseManual decodes the body of POST /v1/purge. Unlike the hooks, an
// unknown field is an error (a *FieldError naming it): a person's typo must
// not turn into a purge of less than they asked for. Malformed JSON is a
// *SyntaxError with its offset.
func ParseManual(body []byte) (ManualRequest, error) {
	var r ManualRequest
	if err := DecodeObjectStrict(body, &r); err != nil {
		return ManualRequest{}, err
	}
	return r, nil
}

// Event turns the request into an event with the given id, validating every
// field. A request that names nothing to purge is a *FieldError.
func (r ManualRequest) Event(id string) (Event, error) {
	ev := Event{
		ID: id, Source: SourceManual, Type: PageUpdated,
		PageID: r.PageID, IncidentID: r.IncidentID, ComponentIDs: r.ComponentIDs,
		URLs: r.URLs, Tags: r.Tags, Keys: r.Keys,
		Hosts: r.Hosts, Prefixes: r.Prefixes, Everything: r.Everything,
	}
	if r.IncidentID != "" {
		ev.Type = IncidentUpdated
	}
	if r.PageID == "" && len(r.URLs)+len(r.Tags)+len(r.Keys)+len(r.Hosts)+len(r.Prefixes) == 0 && !r.Everything {
		return Event{}, &FieldError{Field: "page_id", Reason: "nothing to purge: give page_id, urls, tags, prefixes, hosts, keys or everything"}
	}
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}
