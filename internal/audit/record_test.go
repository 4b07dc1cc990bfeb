package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// AppendJSON writes exactly encoding/json's bytes for every shape of
// record: omitted and present optional fields, nil and empty results, odd
// strings and floats, times with and without nanoseconds or a zone.
func TestRecordJSONMatchesEncodingJSON(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(2026, 12, 2, 18, 41, 40, 0, time.UTC),
		time.Date(2026, 12, 2, 18, 41, 40, 123456789, time.UTC),
		time.Date(2026, 12, 2, 18, 41, 40, 120000000, time.FixedZone("x", 5*3600+1800)),
	}
	floats := []float64{0, -0.0, 0.1, 1e-7, 1e21, 123.456, 1.0 / 3, math.MaxFloat64}
	strs := []string{"", "a", "<>&", "\u2028", "\x00\x1f", "\xed\xa0\x80", "é", "ok\"\\", "😀"}
	results := [][]Result{nil, {}, {{Backend: "redis", Status: "purged", Items: 1}}}
	plans := []PlanSize{{}, {URLs: 22, Tags: 1, Keys: 3, Hosts: 2, Prefixes: 4, Everything: true}}
	n := 0
	for _, tm := range times {
		for _, f := range floats {
			for i, s := range strs {
				r := Record{Time: tm, Source: s, ID: s, Page: s, Zone: s, Status: s, HTTPStatus: i * 100,
					Plan: plans[i%len(plans)], Results: results[i%len(results)], DurationMS: f}
				if len(r.Results) > 0 {
					r.Results = []Result{{Backend: s, Status: s, Items: i, Calls: i, Error: s}}
				}
				got, err := r.AppendJSON([]byte("x"))
				if err != nil {
					t.Fatal(err)
				}
				std, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, append([]byte("x"), std...)) {
					t.Errorf("%v %v %q:\n got %s\nwant x%s", tm, f, s, got, std)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no record checked")
	}
}

// What encoding/json refuses stays an error, and dst is left as it was.
func TestRecordJSONRefusesWhatEncodingJSONRefuses(t *testing.T) {
	bad := []Record{
		{DurationMS: math.NaN()},
		{DurationMS: math.Inf(-1)},
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, r := range bad {
		if _, err := json.Marshal(r); err == nil {
			t.Fatalf("%+v: encoding/json accepts it; the test is wrong", r)
		}
		got, err := r.AppendJSON([]byte("x"))
		if err == nil || string(got) != "x" {
			t.Errorf("%+v: %q, %v; want an error and dst untouched", r, got, err)
		}
	}
}

// A record read back from the stream is the record written.
func TestRecordJSONRoundTrips(t *testing.T) {
	r := Record{Time: time.Date(2026, 12, 2, 18, 41, 40, 5, time.UTC), Source: "hook", ID: "msg_1", Page: "p1",
		Status: "purged", HTTPStatus: 200, Plan: PlanSize{URLs: 22, Keys: 1},
		Results:    []Result{{Backend: "redis", Status: "purged", Items: 1, Calls: 1}, {Backend: "cloudflare", Status: "failed", Items: 22, Error: "429 <too many>"}},
		DurationMS: 61.25}
	b, err := r.AppendJSON(nil)
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
		Plan: PlanSize{URLs: 22, Keys: 1}, Results: []Result{{Backend: "redis", Status: "purged", Items: 1, Calls: 1}, {Backend: "cloudflare", Status: "purged", Items: 22, Calls: 1}},
		DurationMS: 61.25}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf, _ = r.AppendJSON(buf[:0])
	}
}

// BenchmarkRecordEncodingJSON is what the writer did before AppendJSON,
// for comparison.
func BenchmarkRecordEncodingJSON(b *testing.B) {
	r := Record{Time: time.Now().UTC(), Source: "hook", ID: "msg_2Lhjx9d0q7", Page: "p0", Status: "purged", HTTPStatus: 200,
		Plan: PlanSize{URLs: 22, Keys: 1}, Results: []Result{{Backend: "redis", Status: "purged", Items: 1, Calls: 1}, {Backend: "cloudflare", Status: "purged", Items: 22, Calls: 1}},
		DurationMS: 61.25}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}
