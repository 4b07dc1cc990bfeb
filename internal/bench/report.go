package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one bench invocation measured.
type Report struct {
	// BenchID names this invocation: every Redis key its servers wrote
	// contains it (and was unlinked after each run).
	BenchID  string        `json:"bench_id"`
	Machine  Machine       `json:"machine"`
	Settings Settings      `json:"settings"`
	Phases   []PhaseReport `json:"phases"`
	Ratios   Ratios        `json:"ratios"`
	Targets  []Target      `json:"targets"`
}

// Machine describes where the bench ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	OS        string `json:"os"`
	GoVersion string `json:"go_version"`
}

// Settings are the invocation's knobs.
type Settings struct {
	// Command is the command line, as the caller wants it quoted.
	Command   string  `json:"command,omitempty"`
	DurationS float64 `json:"duration_s"`
	Events    int     `json:"events,omitempty"`
	Runs      int     `json:"runs"`
	// ServerBin is the edgepurge binary measured; BeforeBin the one it is
	// compared with, in A/B mode.
	ServerBin       string  `json:"server_bin,omitempty"`
	BeforeBin       string  `json:"before_bin,omitempty"`
	StatuspageShare float64 `json:"statuspage_share"`
	PurgeTimeoutS   float64 `json:"purge_timeout_s"`
	LogLevel        string  `json:"server_log_level"`
}

// PhaseReport is one phase's runs and their medians.
type PhaseReport struct {
	Name        string    `json:"name"`
	About       string    `json:"about"`
	Concurrency int       `json:"concurrency"`
	Bare        bool      `json:"bare,omitempty"`
	StandIn     string    `json:"stand_in,omitempty"`
	Stub        StubSpec  `json:"-"`
	Median      Figures   `json:"median"`
	Runs        []Figures `json:"runs"`
	// Before is the same phase run with Settings.BeforeBin (A/B mode);
	// nil otherwise.
	Before *Baseline `json:"before,omitempty"`
}

// Baseline is a phase's runs with the binary compared with, and their
// medians.
type Baseline struct {
	Median Figures   `json:"median"`
	Runs   []Figures `json:"runs"`
}

// Ratios compare phases' median throughputs; nil when a phase is missing.
type Ratios struct {
	// HotOverNaive is what coalescing and batching buy.
	HotOverNaive *float64 `json:"hot_over_naive,omitempty"`
	// OverheadOverBare is edgepurge's share of the bare handler's speed.
	OverheadOverBare *float64 `json:"overhead_over_bare,omitempty"`
}

// Result of a target.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Target is one of issue 4's targets and how this invocation did.
type Target struct {
	Name   string `json:"name"`
	Got    string `json:"got"`
	Result string `json:"result"`
}

func thisMachine() Machine {
	return Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version()}
}

// cpuModel reads the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (cfg Config) settings() Settings {
	return Settings{
		DurationS: cfg.Duration.Seconds(), Events: cfg.Events, Runs: cfg.Runs, ServerBin: cfg.ServerBin, BeforeBin: cfg.BeforeBin,
		StatuspageShare: cfg.StatuspageShare, PurgeTimeoutS: cfg.PurgeTimeout.Seconds(), LogLevel: cfg.LogLevel,
	}
}

// phase returns the named phase's report, or nil.
func (r *Report) phase(name string) *PhaseReport {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

// ratio is a/b of two phases' median events/s, or nil.
func (r *Report) ratio(a, b string) *float64 {
	pa, pb := r.phase(a), r.phase(b)
	if pa == nil || pb == nil || pb.Median.EventsPerSec == 0 {
		return nil
	}
	v := pa.Median.EventsPerSec / pb.Median.EventsPerSec
	return &v
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteTable writes the report for people: one row per phase (medians),
// the ratios and one PASS/FAIL line per target.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "edgepurge bench: %d CPUs (%s), %s, %s; medians of %d run(s) of %s each",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion, r.Settings.Runs, time.Duration(r.Settings.DurationS*float64(time.Second)))
	if r.Settings.Command != "" {
		fmt.Fprintf(bw, "\ncommand: %s", r.Settings.Command)
	}
	fmt.Fprint(bw, "\n\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario   \tsenders\t200/s\t200\t202\tother\tp50 ms\tp90 ms\tp99 ms\tmax ms\tCDN calls\tURLs/call\tmax/call\tCDN 429s\tmax URL/s\tRSS MB\tsrv µs/ev\t")
	for _, p := range r.Phases {
		m := p.Median
		cdn := func(s string) string {
			if p.Bare {
				return "-"
			}
			return s
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t\n",
			fmt.Sprintf("%-11s", p.Name), p.Concurrency, m.EventsPerSec, m.OK, m.Journaled, m.Other, fmtMS(m.P50MS), fmtMS(m.P90MS), fmtMS(m.P99MS), fmtMS(m.MaxMS),
			cdn(strconv.Itoa(m.CDNCalls)), cdn(fmt.Sprintf("%.1f", m.URLsPerCallMean)), cdn(strconv.Itoa(m.URLsPerCallMax)),
			cdn(strconv.Itoa(m.CDN429)), cdn(strconv.Itoa(m.MaxURLsPerSec)), m.PeakRSSMB, m.ServerCPUUSPerEvent)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}

	fmt.Fprintln(bw, "\nHTTP statuses (medians) and stand-ins:")
	for _, p := range r.Phases {
		standIn := p.StandIn
		if p.Bare {
			standIn = "no stand-in"
		}
		fmt.Fprintf(bw, "  %-11s sent %d: %s   [%s; %s]\n", p.Name, p.Median.Sent, statusLine(p.Median.Statuses), p.About, standIn)
	}
	fmt.Fprintf(bw, "\nCPU during the runs, %% of one core (medians; the machine has %d; \"others\" is what the rest of the machine used):\n", r.Machine.CPUs)
	for _, p := range r.Phases {
		m := p.Median
		others := max(0, m.MachineCPUPct-m.ServerCPUPct-m.BenchCPUPct-m.RedisCPUPct)
		fmt.Fprintf(bw, "  %-11s server %4.0f   bench (senders + stand-in) %4.0f   redis %4.0f   others %4.0f   machine %4.0f\n",
			p.Name, m.ServerCPUPct, m.BenchCPUPct, m.RedisCPUPct, others, m.MachineCPUPct)
	}
	var samples []string
	for _, p := range r.Phases {
		for _, code := range slices.Sorted(maps.Keys(p.Median.Samples)) {
			samples = append(samples, fmt.Sprintf("  %-11s %s: %s", p.Name, code, oneLine(p.Median.Samples[code])))
		}
	}
	if len(samples) > 0 {
		fmt.Fprintln(bw, "first answer of each status other than 200:")
		for _, s := range samples {
			fmt.Fprintln(bw, s)
		}
	}

	if err := r.writeAB(bw); err != nil {
		return err
	}
	fmt.Fprintln(bw, "\nratios:")
	fmt.Fprintf(bw, "  hot / naive throughput:     %s\n", fmtRatio(r.Ratios.HotOverNaive, "×"))
	fmt.Fprintf(bw, "  overhead / bare throughput: %s\n", fmtRatio(r.Ratios.OverheadOverBare, ""))
	fmt.Fprintln(bw, "\ntargets (issue 4):")
	for _, t := range r.Targets {
		fmt.Fprintf(bw, "  %s  %-62s %s\n", t.Result, t.Name, t.Got)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func fmtRatio(v *float64, unit string) string {
	if v == nil {
		return "n/a (scenario not run)"
	}
	if unit == "" {
		return fmt.Sprintf("%.2f (%.0f %%)", *v, *v*100)
	}
	return fmt.Sprintf("%.1f%s", *v, unit)
}

// statusLine prints status counts in order, e.g. "200: 9876, 502: 12".
func statusLine(statuses map[string]int) string {
	if len(statuses) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(statuses))
	for _, code := range slices.Sorted(maps.Keys(statuses)) {
		parts = append(parts, fmt.Sprintf("%s: %d", code, statuses[code]))
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// abFigures are the figures the A/B table compares, and how each is
// printed.
var abFigures = []struct {
	name string
	get  func(Figures) float64
	show func(float64) string
}{
	{"events/s", func(f Figures) float64 { return f.EventsPerSec }, decimals(0)},
	{"p50 ms", func(f Figures) float64 { return f.P50MS }, fmtMS},
	{"p99 ms", func(f Figures) float64 { return f.P99MS }, fmtMS},
	{"server µs/event", func(f Figures) float64 { return f.ServerCPUUSPerEvent }, decimals(1)},
	{"server CPU %", func(f Figures) float64 { return f.ServerCPUPct }, decimals(0)},
	{"RSS MB", func(f Figures) float64 { return f.PeakRSSMB }, decimals(1)},
}

// decimals prints a figure with n decimals.
func decimals(n int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', n, 64) }
}

// writeAB writes the A/B table, when the phases ran with a before binary:
// for each phase and figure, both medians and after / before.
func (r *Report) writeAB(w io.Writer) error {
	if r.Settings.BeforeBin == "" {
		return nil
	}
	fmt.Fprintf(w, "\nA/B, medians of %d alternating run(s) each: before %s, after %s\n", r.Settings.Runs, r.Settings.BeforeBin, r.Settings.ServerBin)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario   \tfigure\tbefore\tafter\tafter/before\t")
	for _, p := range r.Phases {
		if p.Before == nil {
			continue
		}
		for i, fig := range abFigures {
			name := ""
			if i == 0 {
				name = p.Name
			}
			before, after := fig.get(p.Before.Median), fig.get(p.Median)
			ratio := "-"
			if before != 0 {
				ratio = fmt.Sprintf("%.2f", after/before)
			}
			fmt.Fprintf(tw, "%-11s\t%s\t%s\t%s\t%s\t\n", name, fig.name, fig.show(before), fig.show(after), ratio)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
