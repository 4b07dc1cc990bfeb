package bench

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
)

// TestRunEndToEnd runs a tiny hot phase against the real binary and the
// bare handler, and checks that the report's numbers agree with each other.
func TestRunEndToEnd(t *testing.T) {
	integration.Need(t, "the built edgepurge binary and Redis at 127.0.0.1:6379")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	phases, err := SelectPhases("hot,bare")
	if err != nil {
		t.Fatal(err)
	}
	phases = []Phase{phases[0], phases[2]} // hot (throughput) and bare
	var progress bytes.Buffer
	r, err := Run(ctx, Config{
		ServerBin:       serverBin,
		OwnCommand:      []string{os.Args[0]},
		Phases:          phases,
		Concurrency:     map[string]int{"*": 4},
		Duration:        time.Second,
		Runs:            1,
		StatuspageShare: 0.25,
		Progress:        &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	if len(r.Phases) != 2 || r.Phases[0].Name != "hot" || r.Phases[1].Name != "bare" {
		t.Fatalf("phases = %+v", r.Phases)
	}
	for _, p := range r.Phases {
		f := p.Median
		if len(p.Runs) != 1 || p.Concurrency != 4 {
			t.Errorf("%s: %d runs, %d senders; want 1 run of 4", p.Name, len(p.Runs), p.Concurrency)
		}
		sum := 0
		for _, n := range f.Statuses {
			sum += n
		}
		if f.Sent == 0 || sum != f.Sent || f.OK == 0 || f.OK != f.Statuses["200"] {
			t.Errorf("%s: sent %d, statuses %v (sum %d), ok %d; samples %v", p.Name, f.Sent, f.Statuses, sum, f.OK, f.Samples)
		}
		if f.EventsPerSec <= 0 || f.ElapsedS < 1 {
			t.Errorf("%s: %g events/s over %gs", p.Name, f.EventsPerSec, f.ElapsedS)
		}
		if !(0 < f.P50MS && f.P50MS <= f.P90MS && f.P90MS <= f.P99MS && f.P99MS <= f.MaxMS) {
			t.Errorf("%s: latencies p50 %g p90 %g p99 %g max %g", p.Name, f.P50MS, f.P90MS, f.P99MS, f.MaxMS)
		}
		if f.PeakRSSMB <= 1 || f.ServerCPUPct <= 0 || f.ServerCPUUSPerEvent <= 0 {
			t.Errorf("%s: peak RSS %g MB, CPU %g %%, %g µs per event", p.Name, f.PeakRSSMB, f.ServerCPUPct, f.ServerCPUUSPerEvent)
		}
	}
	hot, bare := r.Phases[0].Median, r.Phases[1].Median
	// Every hot event's plan is the same 22 URLs (11 paths on 2 hosts),
	// whether the server coalesces them or not.
	if hot.CDNCalls == 0 || hot.URLsPerCallMax != 22 || hot.URLsPerCallMean != 22 || hot.MaxURLsPerSec < 22 {
		t.Errorf("hot CDN: %d calls, %g/%d URLs per call, max %d URLs/s", hot.CDNCalls, hot.URLsPerCallMean, hot.URLsPerCallMax, hot.MaxURLsPerSec)
	}
	if hot.CDNCalls > hot.Sent {
		t.Errorf("hot: %d CDN calls for %d events", hot.CDNCalls, hot.Sent)
	}
	if bare.CDNCalls != 0 {
		t.Errorf("bare: %d CDN calls", bare.CDNCalls)
	}
	if r.Ratios.OverheadOverBare != nil || r.Ratios.HotOverNaive != nil {
		t.Errorf("ratios without their phases: %+v", r.Ratios)
	}
	if got := strings.Count(progress.String(), "run 1/1"); got != 2 {
		t.Errorf("progress has %d run lines:\n%s", got, progress.String())
	}

	// Nothing the servers wrote is left in Redis.
	rdb, err := openRedis(ctx, DefaultRedisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	keys, _, err := rdb.Scan(ctx, 0, "*"+r.BenchID+"*", 100000).Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left under %s: %v %v", r.BenchID, keys, err)
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^  hot +4 +\d+ `, `(?m)^  bare +4 +\d+ .* - +- +- +- +- +\d`, `hot: zero non-200 \(every run\) +worst run \d+`, `SKIP  hot: ≥ 70 × naive throughput +not run`} {
		if !regexp.MustCompile(want).MatchString(table.String()) {
			t.Errorf("table does not match %s:\n%s", want, table.String())
		}
	}
}
