package statuspage

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/event"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t *testing.T, name string) event.Event {
	t.Helper()
	e, err := Parse(readFixture(t, name))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return e
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// The ids are pinned: changing how they are derived would make a retry that
// straddles a deploy look like a new notification, so it must be deliberate.
func TestParseFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    event.Event
	}{
		{
			fixture: "component-update.json",
			want: event.Event{
				ID:           "sp_5c7ec90240b4b11aeb25e0b0481a303b",
				Source:       event.SourceStatuspage,
				Type:         event.ComponentUpdated,
				PageID:       "p7xk3m9q2w1z",
				ComponentIDs: []string{"c6h7j8k9l0z1"},
				OccurredAt:   utc("2026-11-01T10:05:00Z"),
			},
		},
		{
			// One incident update: the first notification of the incident.
			fixture: "incident-update.json",
			want: event.Event{
				ID:         "sp_e1205d48ebc3a0a4e700c36aa2c0c778",
				Source:     event.SourceStatuspage,
				Type:       event.IncidentCreated,
				PageID:     "p7xk3m9q2w1z",
				IncidentID: "i8d3f0g5h2j4",
				OccurredAt: utc("2026-11-01T16:40:00Z"),
			},
		},
		{
			fixture: "maintenance-in-progress.json",
			want: event.Event{
				ID:           "sp_35f1767320ec96b476e12d6dae25a2c0",
				Source:       event.SourceStatuspage,
				Type:         event.MaintenanceStarted,
				PageID:       "p7xk3m9q2w1z",
				IncidentID:   "m4n5b6v7c8x9",
				ComponentIDs: []string{"c6h7j8k9l0z1"},
				OccurredAt:   utc("2026-11-03T02:00:03.402Z"),
			},
		},
		{
			fixture: "incident-components.json",
			want: event.Event{
				ID:           "sp_2d725b48a65d7e68cd1b887bb555e0fd",
				Source:       event.SourceStatuspage,
				Type:         event.IncidentUpdated,
				PageID:       "p7xk3m9q2w1z",
				IncidentID:   "i2n3c4d5e6f7",
				ComponentIDs: []string{"a1p2i3e4u5w6", "w3b4h5o6o7k8"},
				OccurredAt:   utc("2026-11-02T14:31:05.730Z"),
			},
		},
		{
			// components[] is empty: the ids come from every update's
			// affected_components, newest update first.
			fixture: "incident-resolved.json",
			want: event.Event{
				ID:           "sp_7a2c2847179655e37bd175d3da82483f",
				Source:       event.SourceStatuspage,
				Type:         event.IncidentResolved,
				PageID:       "p7xk3m9q2w1z",
				IncidentID:   "i2n3c4d5e6f7",
				ComponentIDs: []string{"a1p2i3e4u5w6", "w3b4h5o6o7k8"},
				OccurredAt:   utc("2026-11-02T15:10:20.640Z"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got := parseFixture(t, tt.fixture)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// edit parses a fixture into a generic map, lets fn change it and returns
// the re-encoded body.
func edit(t *testing.T, fixture string, fn func(n map[string]any)) []byte {
	t.Helper()
	var n map[string]any
	if err := json.Unmarshal(readFixture(t, fixture), &n); err != nil {
		t.Fatal(err)
	}
	fn(n)
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(n map[string]any, key string) map[string]any { return n[key].(map[string]any) }

func TestParseIncidentTypes(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(inc map[string]any)
		want    event.Type
	}{
		{"maintenance scheduled", "maintenance-in-progress.json", func(inc map[string]any) { inc["status"] = "scheduled" }, event.MaintenanceScheduled},
		{"maintenance in progress", "maintenance-in-progress.json", func(inc map[string]any) {}, event.MaintenanceStarted},
		{"maintenance verifying", "maintenance-in-progress.json", func(inc map[string]any) { inc["status"] = "verifying" }, event.MaintenanceStarted},
		{"maintenance completed", "maintenance-in-progress.json", func(inc map[string]any) { inc["status"] = "completed" }, event.MaintenanceCompleted},
		{"maintenance with unknown status", "maintenance-in-progress.json", func(inc map[string]any) { inc["status"] = "postponed" }, event.MaintenanceScheduled},
		{"incident investigating, one update", "incident-update.json", func(inc map[string]any) { inc["status"] = "investigating" }, event.IncidentCreated},
		{"incident resolved with one update", "incident-update.json", func(inc map[string]any) { inc["status"] = "resolved" }, event.IncidentResolved},
		{"incident postmortem", "incident-resolved.json", func(inc map[string]any) { inc["status"] = "postmortem" }, event.IncidentResolved},
		{"incident monitoring, several updates", "incident-resolved.json", func(inc map[string]any) { inc["status"] = "monitoring" }, event.IncidentUpdated},
		{"incident without updates", "incident-update.json", func(inc map[string]any) { delete(inc, "incident_updates") }, event.IncidentUpdated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := edit(t, tt.fixture, func(n map[string]any) { tt.edit(obj(n, "incident")) })
			e, err := Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if e.Type != tt.want {
				t.Fatalf("Type = %q, want %q", e.Type, tt.want)
			}
		})
	}
}

func TestParseIncidentWithoutUpdatesUsesUpdatedAt(t *testing.T) {
	body := edit(t, "incident-update.json", func(n map[string]any) { delete(obj(n, "incident"), "incident_updates") })
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if want := utc("2026-11-01T16:41:00Z"); !e.OccurredAt.Equal(want) {
		t.Fatalf("OccurredAt = %s, want %s", e.OccurredAt, want)
	}
}

func TestParseNewestUpdateIsLatestCreatedAt(t *testing.T) {
	// Listed oldest first this time: the newest is still the one that counts.
	body := edit(t, "incident-components.json", func(n map[string]any) {
		inc := obj(n, "incident")
		u := inc["incident_updates"].([]any)
		inc["incident_updates"] = []any{u[1], u[0]}
	})
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if want := utc("2026-11-02T14:31:05.730Z"); !e.OccurredAt.Equal(want) {
		t.Fatalf("OccurredAt = %s, want %s", e.OccurredAt, want)
	}
	if want := parseFixture(t, "incident-components.json").ID; e.ID != want {
		t.Fatalf("ID = %s, want %s (same newest update)", e.ID, want)
	}
}

func TestParsePageFallbacks(t *testing.T) {
	body := edit(t, "maintenance-in-progress.json", func(n map[string]any) { delete(n, "page") })
	e, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse without page: %v", err)
	}
	if e.PageID != "p7xk3m9q2w1z" {
		t.Fatalf("PageID = %q, want p7xk3m9q2w1z from incident.page_id", e.PageID)
	}
	body = []byte(`{"component_update":{"id":"cu1","component_id":"c1","created_at":"2026-11-01T10:05:00Z"},
		"component":{"id":"c1","page_id":"p9"}}`)
	if e, err = Parse(body); err != nil {
		t.Fatalf("Parse component without page: %v", err)
	}
	if e.PageID != "p9" {
		t.Fatalf("PageID = %q, want p9 from component.page_id", e.PageID)
	}
}

func TestParseComponentIDs(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"only component_update.component_id",
			`{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c1","created_at":"2026-11-01T10:05:00Z"}}`,
			[]string{"c1"}},
		{"only component.id",
			`{"page":{"id":"p0"},"component_update":{"id":"cu1","created_at":"2026-11-01T10:05:00Z"},"component":{"id":"c2"}}`,
			[]string{"c2"}},
		{"disagreeing ids: both purged",
			`{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c1"},"component":{"id":"c2"}}`,
			[]string{"c2", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(e.ComponentIDs, tt.want) {
				t.Fatalf("ComponentIDs = %q, want %q", e.ComponentIDs, tt.want)
			}
		})
	}
}

func TestParseIDStability(t *testing.T) {
	base := parseFixture(t, "incident-components.json").ID

	same := map[string][]byte{
		"identical body": readFixture(t, "incident-components.json"),
		"re-rendered retry (other meta.generated_at, key order, whitespace)": edit(t, "incident-components.json", func(n map[string]any) {
			obj(n, "meta")["generated_at"] = "2026-11-02T14:35:00.000Z"
			obj(n, "page")["status_description"] = "Major System Outage"
		}),
	}
	for name, body := range same {
		e, err := Parse(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.ID != base {
			t.Errorf("%s: ID = %s, want %s", name, e.ID, base)
		}
	}

	different := map[string][]byte{
		"a new update": readFixture(t, "incident-resolved.json"),
		"the newest update edited": edit(t, "incident-components.json", func(n map[string]any) {
			u := obj(n, "incident")["incident_updates"].([]any)[0].(map[string]any)
			u["updated_at"] = "2026-11-02T14:33:00.000Z"
		}),
		"postmortem published without an update": edit(t, "incident-components.json", func(n map[string]any) {
			inc := obj(n, "incident")
			inc["status"] = "postmortem"
			inc["updated_at"] = "2026-11-03T09:00:00.000Z"
		}),
		"another page": edit(t, "incident-components.json", func(n map[string]any) { obj(n, "page")["id"] = "p0" }),
	}
	for name, body := range different {
		e, err := Parse(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.ID == base {
			t.Errorf("%s: ID = %s, the same as the original notification's", name, e.ID)
		}
	}

	cu := parseFixture(t, "component-update.json").ID
	next := edit(t, "component-update.json", func(n map[string]any) {
		u := obj(n, "component_update")
		u["id"], u["created_at"], u["old_status"], u["new_status"] = "cu9", "2026-11-01T10:20:00Z", "major_outage", "operational"
	})
	e, err := Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == cu {
		t.Errorf("next component update: ID = %s, the same as the previous one's", e.ID)
	}
	if !strings.HasPrefix(e.ID, IDPrefix) || len(e.ID) != len(IDPrefix)+32 {
		t.Errorf("ID = %q, want sp_ and 32 hex digits", e.ID)
	}
}

func TestParseMalformed(t *testing.T) {
	incident := func(fn func(inc map[string]any)) string {
		return string(edit(t, "incident-components.json", func(n map[string]any) { fn(obj(n, "incident")) }))
	}
	tests := []struct {
		name      string
		body      string
		wantField string // "" means a *event.SyntaxError
		wantMsg   string
	}{
		{name: "not JSON", body: `{"page":`, wantMsg: "statuspage notification: malformed JSON at offset 8: unexpected end of JSON input"},
		{name: "array", body: `[]`, wantMsg: "statuspage notification: malformed JSON at offset 1: the body must be a JSON object, not an array"},
		{name: "empty object", body: `{}`, wantField: "page.id",
			wantMsg: `statuspage notification: field "page.id": required, must not be empty`},
		{name: "page without id", body: `{"page":{"status_indicator":"none"},"incident":{"id":"i1"}}`, wantField: "page.id"},
		{name: "page id a number", body: `{"page":{"id":42}}`, wantField: "page.id",
			wantMsg: `statuspage notification: field "page.id": must be a string, not a number`},
		{name: "page is a string", body: `{"page":"p0"}`, wantField: "page",
			wantMsg: `statuspage notification: field "page": must be an object, not a string`},
		{name: "page id with a slash", body: `{"page":{"id":"p/0"},"incident":{"id":"i1"}}`, wantField: "page.id"},
		{name: "neither incident nor component_update", body: `{"page":{"id":"p0"},"meta":{}}`, wantField: "incident",
			wantMsg: `statuspage notification: field "incident": neither incident nor component_update is present`},
		{name: "incident without id", body: incident(func(inc map[string]any) { delete(inc, "id") }), wantField: "incident.id"},
		{name: "incident updates not an array", body: incident(func(inc map[string]any) { inc["incident_updates"] = "none" }),
			wantField: "incident.incident_updates"},
		{name: "update created_at malformed", body: incident(func(inc map[string]any) {
			inc["incident_updates"].([]any)[1].(map[string]any)["created_at"] = "yesterday"
		}), wantField: "incident.incident_updates[1].created_at",
			wantMsg: `statuspage notification: field "incident.incident_updates[1].created_at": must be an RFC 3339 timestamp such as 2026-11-26T18:00:00Z`},
		{name: "update updated_at malformed", body: incident(func(inc map[string]any) {
			inc["incident_updates"].([]any)[0].(map[string]any)["updated_at"] = "2026-11-02 14:31"
		}), wantField: "incident.incident_updates[0].updated_at"},
		{name: "incident updated_at malformed", body: incident(func(inc map[string]any) { inc["updated_at"] = "now" }),
			wantField: "incident.updated_at"},
		{name: "scheduled_for malformed", body: incident(func(inc map[string]any) { inc["scheduled_for"] = "soon" }),
			wantField: "incident.scheduled_for"},
		{name: "affected component code malformed", body: incident(func(inc map[string]any) {
			u := inc["incident_updates"].([]any)[0].(map[string]any)
			u["affected_components"].([]any)[1].(map[string]any)["code"] = "../x"
		}), wantField: "incident.incident_updates[0].affected_components[1].code"},
		{name: "component without id", body: incident(func(inc map[string]any) {
			delete(inc["components"].([]any)[1].(map[string]any), "id")
		}), wantField: "incident.components[1].id"},
		{name: "component_update without component", body: `{"page":{"id":"p0"},"component_update":{"id":"cu1","created_at":"2026-11-01T10:05:00Z"}}`,
			wantField: "component.id"},
		{name: "component_update created_at malformed", body: `{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c1","created_at":"10:05"}}`,
			wantField: "component_update.created_at"},
		{name: "component_update component_id malformed", body: `{"page":{"id":"p0"},"component_update":{"id":"cu1","component_id":"c 1"}}`,
			wantField: "component_update.component_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.body))
			if err == nil {
				t.Fatalf("Parse = %#v, want error", e)
			}
			if !malformed(err) {
				t.Fatalf("malformed(%v) = false", err)
			}
			if tt.wantField == "" {
				var se *event.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Parse error = %v (%T), want *event.SyntaxError", err, err)
				}
			} else {
				var fe *event.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("Parse error = %v, want a *event.FieldError for %q", err, tt.wantField)
				}
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Fatalf("Parse error = %q, want %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseAcceptsNullsAndUnknownFields(t *testing.T) {
	body := `{"meta":null,"page":{"id":"p0","brand_new":{"a":[1,2]}},"incident":{"id":"i1","status":"investigating",
		"scheduled_for":null,"updated_at":null,"components":null,"incident_updates":[{"id":"u1","created_at":null,
		"updated_at":null,"affected_components":[{"code":null,"name":"Legacy"}],"extra":42}]},"version":3}`
	e, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := event.Event{
		ID:         e.ID,
		Source:     event.SourceStatuspage,
		Type:       event.IncidentCreated,
		PageID:     "p0",
		IncidentID: "i1",
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("Parse =\n%#v\nwant\n%#v", e, want)
	}
}

// BenchmarkParse parses the incident-update fixture.
func BenchmarkParse(b *testing.B) {
	body := readFixture(b, "incident-update.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
