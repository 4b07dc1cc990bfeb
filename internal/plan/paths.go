package plan

// group is a set of public paths that change together.
type group int

const (
	groupCommon group = iota
	groupIncident
	groupComponent
	groupMaintenance
	groupCount
)

// builtinPaths are the public URLs of a status page (PRODUCT.md), grouped by
// what makes them change.
var builtinPaths = [groupCount][]string{
	groupCommon: {
		"/", "/history", "/history.rss", "/history.atom",
		"/api/v2/summary.json", "/api/v2/status.json",
		"/embed/script.js", "/embed/frame",
	},
	groupIncident: {
		"/incidents/{incident_id}",
		"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json",
	},
	groupComponent: {
		"/uptime", "/uptime/{component_id}",
		"/api/v2/components.json",
	},
	groupMaintenance: {
		"/incidents/{incident_id}",
		"/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json",
		"/api/v2/scheduled-maintenances/active.json",
	},
}
