package bench

import (
	"bytes"
	"strings"
	"testing"
)

// The A/B table sets each phase's medians with both binaries side by
// side, with after / before, and shows only phases that ran with both.
func TestWriteTableAB(t *testing.T) {
	before := Figures{EventsPerSec: 8000, P50MS: 10, P99MS: 120, ServerCPUUSPerEvent: 80, ServerCPUPct: 90, PeakRSSMB: 40}
	after := Figures{EventsPerSec: 8800, P50MS: 9.5, P99MS: 108, ServerCPUUSPerEvent: 84, ServerCPUPct: 90, PeakRSSMB: 30}
	hot := phaseOf("hot", stormStub, after)
	hot.Before = &Baseline{Runs: []Figures{before}, Median: before}
	r := &Report{
		Settings: Settings{Runs: 1, ServerBin: "/b/after", BeforeBin: "/b/before"},
		Phases:   []PhaseReport{hot, phaseOf("naive", stormStub, Figures{EventsPerSec: 100})},
	}
	r.evaluate()
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	i := strings.Index(table, "A/B, medians of 1 alternating run(s) each: before /b/before, after /b/after\n")
	if i < 0 {
		t.Fatalf("no A/B header:\n%s", table)
	}
	want := `  scenario              figure  before  after  after/before
  hot                 events/s    8000   8800          1.10
                        p50 ms    10.0   9.50          0.95
                        p99 ms     120    108          0.90
               server µs/event    80.0   84.0          1.05
                  server CPU %      90     90          1.00
                        RSS MB    40.0   30.0          0.75
`
	ab := table[i:]
	ab = ab[strings.Index(ab, "\n")+1:]
	if !strings.HasPrefix(ab, want) {
		t.Errorf("A/B table:\n%s\nwant:\n%s", ab, want)
	}
	if strings.Contains(ab[len(want):strings.Index(ab, "ratios:")], "naive") {
		t.Errorf("naive ran with one binary only, yet is in the A/B table:\n%s", ab)
	}

	r.Settings.BeforeBin, r.Phases[0].Before = "", nil
	out.Reset()
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "A/B") {
		t.Errorf("an A/B table without a before binary:\n%s", out.String())
	}
}
