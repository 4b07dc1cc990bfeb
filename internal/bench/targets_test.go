package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func phaseOf(name string, stub StubSpec, runs ...Figures) PhaseReport {
	return PhaseReport{Name: name, Concurrency: 64, Stub: stub, Runs: runs, Median: medianFigures(runs)}
}

func TestEvaluateTargets(t *testing.T) {
	r := &Report{Phases: []PhaseReport{
		phaseOf("hot", stormStub,
			Figures{Sent: 100, OK: 100, EventsPerSec: 12000},
			Figures{Sent: 100, OK: 100, EventsPerSec: 11000, CDN429: 1}, // one 429 in one run fails "zero"
			Figures{Sent: 100, OK: 100, EventsPerSec: 9000}),
		phaseOf("hot-latency", stormStub, Figures{Sent: 1, OK: 1, P99MS: 110}),
		phaseOf("many", stormStub, Figures{Sent: 5, OK: 4, MaxURLsPerSec: 3000}),
		phaseOf("overhead", StubSpec{}, Figures{EventsPerSec: 500, PeakRSSMB: 63.9}),
		phaseOf("bare", StubSpec{}, Figures{EventsPerSec: 1000}),
		phaseOf("naive", stormStub, Figures{EventsPerSec: 100}),
	}}
	r.evaluate()
	want := map[string]string{
		"hot: ≥ 10000 events/s (64 senders)":                                 "PASS 11000 events/s",
		"hot: zero CDN 429s (every run)":                                     "FAIL worst run 1",
		"hot: zero non-200 (every run)":                                      "PASS worst run 0",
		"hot: ≥ 70 × naive throughput":                                       "PASS 110.0×",
		"hot-latency: p99 ≤ 110 ms (64 senders)":                             "PASS p99 110 ms",
		"many: zero CDN 429s (every run)":                                    "PASS worst run 0",
		"many: zero non-200 (every run)":                                     "FAIL worst run 1",
		"many: stand-in ≤ 3000 URLs in any 1 s (bucket 1500/s + burst 1500)": "PASS worst run 3000",
		"overhead: ≥ 50 % of the bare handler's events/s":                    "PASS 50 %",
		"overhead: server peak RSS < 64 MB (every run)":                      "PASS worst run 63.9 MB",
	}
	if len(r.Targets) != len(want) {
		t.Errorf("%d targets, want %d: %+v", len(r.Targets), len(want), r.Targets)
	}
	for _, tg := range r.Targets {
		if got := tg.Result + " " + tg.Got; want[tg.Name] != got {
			t.Errorf("%s: %q, want %q", tg.Name, got, want[tg.Name])
		}
	}
	if *r.Ratios.HotOverNaive != 110 || *r.Ratios.OverheadOverBare != 0.5 {
		t.Errorf("ratios %v %v", *r.Ratios.HotOverNaive, *r.Ratios.OverheadOverBare)
	}
}

func TestEvaluateSkipsMissingPhases(t *testing.T) {
	r := &Report{Phases: []PhaseReport{phaseOf("naive", stormStub, Figures{EventsPerSec: 100})}}
	r.evaluate()
	if len(r.Targets) != 1 || r.Targets[0].Result != Skip || r.Targets[0].Got != "not run" {
		t.Errorf("targets %+v", r.Targets)
	}
}

func TestRedisMustBeLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := openRedis(ctx, "redis://10.1.2.3:6379/0")
	if err == nil || !strings.Contains(err.Error(), "only talks to 127.0.0.1") {
		t.Errorf("remote Redis: %v", err)
	}
}
