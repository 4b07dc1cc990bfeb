package chain

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepurge/edgepurge/internal/plan"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/*.golden.json")

// answerFixtures are answers whose JSON is pinned byte for byte in
// testdata: the wire format must not change.
func answerFixtures() map[string]Answer {
	urls := []string{}
	for _, h := range []string{"p1.status.example.com", "p1.custom.example.com"} {
		for _, p := range []string{"/", "/history", "/history.rss", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json",
			"/embed/script.js", "/embed/frame", "/incidents/inc1", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"} {
			urls = append(urls, "https://"+h+p)
		}
	}
	return map[string]Answer{
		"hot": {
			ID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f1W", Status: StatusPurged,
			Plan: plan.Plan{Page: "p1", Zone: "zone0", URLs: urls, Tags: []string{}, Keys: []string{"bench:statuspage:p1:summary"}},
			Results: []BackendResult{
				{Backend: "redis", Status: BackendOK, Items: 1, DurationMS: 0.412},
				{Backend: "cloudflare", Status: BackendOK, Items: 22, Calls: 1, DurationMS: 1.25},
			},
			DurationMS: 1.733,
		},
		"duplicate": {
			ID: "msg_1", Status: StatusDuplicate,
			Plan: plan.Plan{Page: "p1", URLs: []string{}, Tags: []string{}, Keys: []string{}}, Results: []BackendResult{},
		},
		"nil-lists": {ID: "", Status: StatusDryRun},
		"everything": {
			ID: "e<1>&\"\\\u2028\u2029\x01\t\n\r/é😀\xff", Status: StatusJournaled,
			Plan: plan.Plan{
				Page: "p&2", Zone: "z", URLs: []string{"https://a.test/?q=<x>&y=1"}, Tags: []string{"page:p2", "t\"q"},
				Hosts: []string{"a.test"}, Prefixes: []string{"a.test/x/"}, Everything: true,
				Keys: []string{"k1"}, KeySets: []string{"s1", "s2"}, Warnings: []string{"page registry unavailable: hosts from the default rule only"},
				Cover: &plan.Cover{Tags: []string{"page:p2"}, Hosts: []string{"a.test"}}, Incomplete: true,
				CDNOrder: []string{"varnish"}, SoftPurge: true, EdgeCheck: "127.0.0.1:1",
			},
			Results: []BackendResult{
				{Backend: "redis", Status: BackendOK, Items: 3, DurationMS: 0},
				{Backend: "varnish", Status: BackendFailed, Items: 1, Calls: 2, DurationMS: 12.5, Error: "node x: HTTP 503",
					ErrorCodes: []int{-1, 0, 10000}, Retryable: true, Unsent: true,
					Nodes: []NodeResult{{Node: "http://v1:6081", Status: BackendOK, Items: 1, Calls: 1, DurationMS: 1e-7},
						{Node: "http://v2:6081", Status: BackendFailed, DurationMS: 2e21, Error: "boom"}}},
				{Backend: "cloudflare", Status: BackendSkipped, DurationMS: 123456789.123, PurgedBy: "cover", Escalation: "url budget"},
			},
			EdgeChecks: []URLCheck{
				{URL: "https://a.test/", Result: CheckVerified, Age: "0", CacheStatus: "MISS"},
				{URL: "https://a.test/x", Result: CheckStale, Repurged: true, Error: "timeout"},
			},
			Repurge:      []BackendResult{{Backend: "cloudflare", Status: BackendOK, Items: 1, Calls: 1, DurationMS: 0.001}},
			DurationMS:   -0.5,
			JournalID:    "1700000000000-0",
			JournalError: "x",
		},
		"empty-slices": {
			Plan: plan.Plan{URLs: []string{}, Tags: []string{}, Keys: []string{}, Hosts: []string{}, Prefixes: []string{}, KeySets: []string{},
				Warnings: []string{}, Cover: &plan.Cover{}},
			Results:    []BackendResult{{ErrorCodes: []int{}, Nodes: []NodeResult{}}},
			EdgeChecks: []URLCheck{}, Repurge: []BackendResult{},
		},
	}
}

// The answer's JSON is pinned byte for byte: encoding/json writes exactly
// the golden bytes for the Answer struct (field order, omissions, HTML-safe
// escaping, float formatting).
func TestAnswerJSONPinned(t *testing.T) {
	for name, a := range answerFixtures() {
		path := filepath.Join("testdata", "answer-"+name+".golden.json")
		got, err := json.Marshal(&a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *updateGolden {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: answer JSON changed:\n got %s\nwant %s", name, got, want)
		}
	}
}

func BenchmarkAnswerJSON(b *testing.B) {
	a := answerFixtures()["hot"]
	b.ReportAllocs()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for b.Loop() {
		buf.Reset()
		if err := enc.Encode(&a); err != nil {
			b.Fatal(err)
		}
	}
}
