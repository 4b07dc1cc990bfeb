package statuspage

import "github.com/edgepurge/edgepurge/internal/event"

// ParseFast is Parse for the notifications its one-pass decoder takes,
// which are nearly all: handled is false when it leaves the body to
// ParseSlow (see decodeFast). Unlike encoding/json, it needs little stack, so it
// can run on a request's goroutine.
func ParseFast(body []byte) (e event.Event, handled bool, err error) {
	var n notification
	if !decodeFast(body, &n) {
		return event.Event{}, false, nil
	}
	e, err = notificationEvent(n)
	return e, true, err
}

// decodeFast decodes body into n by an event.Walker, and says false for a
// body it leaves to encoding/json (see event.Walker; arrays of objects
// holding a null are left too). FuzzFastPath holds it to encoding/json's
// result for every body it takes.
func decodeFast(body []byte, n *notification) bool {
	var w event.Walker
	return w.Start(body) && w.Object(func(f int) bool {
		switch f {
		case 0:
			return w.Pointer(func() bool { n.Page = new(page); return walkPage(&w, n.Page) })
		case 1:
			return w.Pointer(func() bool { n.Incident = new(incident); return walkIncident(&w, n.Incident) })
		case 2:
			return w.Pointer(func() bool {
				n.ComponentUpdate = new(componentUpdate)
				return walkComponentUpdate(&w, n.ComponentUpdate)
			})
		default:
			return w.Pointer(func() bool { n.Component = new(component); return walkComponent(&w, n.Component) })
		}
	}, "page", "incident", "component_update", "component") && w.End()
}

func walkPage(w *event.Walker, p *page) bool {
	return w.Object(func(int) bool { return w.String(&p.ID) }, "id")
}

func walkComponent(w *event.Walker, c *component) bool {
	fields := [...]*string{&c.ID, &c.PageID}
	return w.Object(func(f int) bool { return w.String(fields[f]) }, "id", "page_id")
}

func walkComponentUpdate(w *event.Walker, u *componentUpdate) bool {
	fields := [...]*string{&u.ID, &u.ComponentID, &u.CreatedAt, &u.NewStatus}
	return w.Object(func(f int) bool { return w.String(fields[f]) }, "id", "component_id", "created_at", "new_status")
}

func walkIncident(w *event.Walker, in *incident) bool {
	fields := [...]*string{&in.ID, &in.PageID, &in.Status, &in.UpdatedAt, &in.ScheduledFor}
	return w.Object(func(f int) bool {
		switch f {
		case len(fields):
			return w.Array(func() bool {
				in.IncidentUpdates = append(in.IncidentUpdates, incidentUpdate{})
				return walkIncidentUpdate(w, &in.IncidentUpdates[len(in.IncidentUpdates)-1])
			}, func() { in.IncidentUpdates = []incidentUpdate{} })
		case len(fields) + 1:
			return w.Array(func() bool {
				in.Components = append(in.Components, component{})
				return walkComponent(w, &in.Components[len(in.Components)-1])
			}, func() { in.Components = []component{} })
		default:
			return w.String(fields[f])
		}
	}, "id", "page_id", "status", "updated_at", "scheduled_for", "incident_updates", "components")
}

func walkIncidentUpdate(w *event.Walker, u *incidentUpdate) bool {
	fields := [...]*string{&u.ID, &u.CreatedAt, &u.UpdatedAt}
	return w.Object(func(f int) bool {
		if f < len(fields) {
			return w.String(fields[f])
		}
		return w.Array(func() bool {
			u.AffectedComponents = append(u.AffectedComponents, affectedComponent{})
			c := &u.AffectedComponents[len(u.AffectedComponents)-1]
			return w.Object(func(int) bool { return w.String(&c.Code) }, "code")
		}, func() { u.AffectedComponents = []affectedComponent{} })
	}, "id", "created_at", "updated_at", "affected_components")
}
