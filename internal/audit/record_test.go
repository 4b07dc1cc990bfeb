package audit

import (
	"encoding/json"
	"testing"
	"time"
)

// A record read back from the stream is the record written.
func TestRecordJSONRoundTrips(t *testing.T) {
	r := Record{Time: time.Date(2026, 12, 2, 18, 41, 40, 5, time.UTC), Source: "hook", ID: "msg_1", Page: "p1",
		Status: "purged", HTTPStatus: 200, Plan: PlanSize{URLs: 22, Keys: 1},
		Results:    []BackendResult{{Backend: "redis", Status: "purged", Items: 1, Calls: 1}, {Backend: "cloudflare", Status: "failed", Items: 22, Error: "429 <too many>"}},
		DurationMS: 61.25}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(r.Time) || back.ID != r.ID || back.Results[1].Error != r.Results[1].Error || back.DurationMS != r.DurationMS || back.Plan != r.Plan {
		t.Errorf("round trip: %+v, want %+v", back, r)
	}
}

func BenchmarkRecordJSON(b *testing.B) {
	r := Record{Time: time.Now().UTC(), Source: "hook", ID: "msg_2Lhjx9d0q7", Page: "p0", Status: "purged", HTTPStatus: 200,
		Plan: PlanSize{URLs: 22, Keys: 1}, Results: []BackendResult{{Backend: "redis", Status: "purged", Items: 1, Calls: 1}, {Backend: "cloudflare", Status: "purged", Items: 22, Calls: 1}},
		DurationMS: 61.25}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&r); err != nil {
			b.Fatal(err)
		}
	}
}

// A filter selecting what no record holds is refused, naming the values
// it may take, rather than answering an empty trail.
func TestFilterCheck(t *testing.T) {
	for _, f := range []Filter{{}, {Status: "journaled"}, {Source: "redrive"}, {Status: "dry_run", Source: "canary"}} {
		if err := f.Check(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if err := (Filter{Status: "bogus"}).Check(); err == nil || err.Error() != "status must be one of purged, partial, failed, stale, journaled, dry_run" {
		t.Errorf("bogus status: %v", err)
	}
	if err := (Filter{Source: "bogus"}).Check(); err == nil || err.Error() != "source must be one of hook, statuspage, manual, canary, direct, redrive" {
		t.Errorf("bogus source: %v", err)
	}
}
