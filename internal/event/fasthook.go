package event

// hookFields are hookBody's JSON keys: its strings, then its lists, in
// decodeHookFast's order.
var hookFields = [...]string{"type", "page_id", "incident_id", "occurred_at", "component_ids", "urls", "tags", "keys"}

// decodeHookFast decodes body into h by a Walker, and says false for a
// body it leaves to DecodeObject (see Walker). FuzzHookFastPath holds the
// two to the same result for every body it takes.
func decodeHookFast(body []byte, h *hookBody) bool {
	var w Walker
	strs := [...]*string{&h.Type, &h.PageID, &h.IncidentID, &h.OccurredAt}
	lists := [...]*[]string{&h.ComponentIDs, &h.URLs, &h.Tags, &h.Keys}
	return w.Start(body) && w.Object(func(f int) bool {
		if f < len(strs) {
			return w.String(strs[f])
		}
		return w.Strings(lists[f-len(strs)])
	}, hookFields[:]...) && w.End()
}
