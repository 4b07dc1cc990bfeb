package bench

import (
	"fmt"
	"time"
)

// Issue 4's targets.
const (
	targetHotEventsPerSec = 10_000
	// targetManyCoverEventsPerSec and targetManyCoverP99 are issue 10's
	// many with covers.
	targetManyCoverEventsPerSec = 400
	targetManyCoverP99          = 3 * time.Second
	targetHotOverNaive          = 70
	targetOverheadShare         = 0.5
	targetOverheadRSSMB         = 64
	// The hot latency bound is 2 × the stand-in's latency + this.
	targetLatencySlack = 10 * time.Millisecond
)

// evaluate computes the ratios and checks every target. Throughput and
// latency targets use the medians; "zero" targets and the bucket must hold
// in every run; a target whose phase did not run is skipped.
func (r *Report) evaluate() {
	r.Ratios = Ratios{HotOverNaive: r.ratio("hot", "naive"), OverheadOverBare: r.ratio("overhead", "bare")}
	r.Targets = nil
	add := func(name string, ran bool, got string, pass bool) {
		res := Skip
		switch {
		case !ran:
			got = "not run"
		case pass:
			res = Pass
		default:
			res = Fail
		}
		r.Targets = append(r.Targets, Target{Name: name, Got: got, Result: res})
	}
	zero := func(p *PhaseReport, what string, get func(Figures) int) {
		if p == nil {
			return
		}
		w := worst(p.Runs, get)
		add(fmt.Sprintf("%s: zero %s (every run)", p.Name, what), true, fmt.Sprintf("worst run %d", w), w == 0)
	}

	hot := r.phase("hot")
	if hot != nil {
		m := hot.Median
		add(fmt.Sprintf("hot: ≥ %d events/s (%d senders)", targetHotEventsPerSec, hot.Concurrency), true,
			fmt.Sprintf("%.0f events/s", m.EventsPerSec), m.EventsPerSec >= targetHotEventsPerSec)
		zero(hot, "CDN 429s", func(f Figures) int { return f.CDN429 })
		zero(hot, "non-200", Figures.NonOK)
	}
	ratio := r.Ratios.HotOverNaive
	if hot != nil || r.phase("naive") != nil {
		got := ""
		if ratio != nil {
			got = fmt.Sprintf("%.1f×", *ratio)
		}
		add(fmt.Sprintf("hot: ≥ %d × naive throughput", targetHotOverNaive), ratio != nil, got, ratio != nil && *ratio >= targetHotOverNaive)
	}
	if lat := r.phase("hot-latency"); lat != nil {
		bound := 2*lat.Stub.Latency + targetLatencySlack
		add(fmt.Sprintf("hot-latency: p99 ≤ %s (%d senders)", fmtMS(ms(bound))+" ms", lat.Concurrency), true,
			fmt.Sprintf("p99 %s ms", fmtMS(lat.Median.P99MS)), lat.Median.P99MS <= ms(bound))
	}
	if many := r.phase("many"); many != nil {
		zero(many, "CDN 429s", func(f Figures) int { return f.CDN429 })
		zero(many, "non-200", Figures.NonOK)
		if allowed := many.Stub.urlsPerSecondAllowed(); allowed > 0 {
			w := worst(many.Runs, func(f Figures) int { return f.MaxURLsPerSec })
			add(fmt.Sprintf("many: stand-in ≤ %d URLs in any 1 s (bucket %g/s + burst %d)", allowed, many.Stub.URLRate, many.Stub.urlBurst()), true,
				fmt.Sprintf("worst run %d", w), w <= allowed)
		}
	}
	if mc := r.phase("many-cover"); mc != nil {
		m := mc.Median
		add(fmt.Sprintf("many-cover: ≥ %d events/s (%d senders)", targetManyCoverEventsPerSec, mc.Concurrency), true,
			fmt.Sprintf("%.0f events/s", m.EventsPerSec), m.EventsPerSec >= targetManyCoverEventsPerSec)
		add(fmt.Sprintf("many-cover: p99 ≤ %s ms", fmtMS(ms(targetManyCoverP99))), true,
			fmt.Sprintf("p99 %s ms", fmtMS(m.P99MS)), m.P99MS <= ms(targetManyCoverP99))
		zero(mc, "CDN 429s", func(f Figures) int { return f.CDN429 })
		zero(mc, "non-200", Figures.NonOK)
	}
	share := r.Ratios.OverheadOverBare
	over := r.phase("overhead")
	if over != nil || r.phase("bare") != nil {
		got := ""
		if share != nil {
			got = fmt.Sprintf("%.0f %%", *share*100)
		}
		add(fmt.Sprintf("overhead: ≥ %.0f %% of the bare handler's events/s", targetOverheadShare*100), share != nil, got, share != nil && *share >= targetOverheadShare)
	}
	if over != nil {
		w := 0.0
		for _, f := range over.Runs {
			w = max(w, f.PeakRSSMB)
		}
		add(fmt.Sprintf("overhead: server peak RSS < %d MB (every run)", targetOverheadRSSMB), true,
			fmt.Sprintf("worst run %.1f MB", w), w < targetOverheadRSSMB)
	}
}
