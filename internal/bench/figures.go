package bench

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// Figures are the measurements of one run of a phase, or the medians of
// several runs.
type Figures struct {
	// Sent is how many events were posted; OK how many were answered 200
	// (purged); Journaled how many 202 (journaled for re-drive: not yet
	// purged, so not counted as served).
	Sent      int `json:"sent"`
	OK        int `json:"ok"`
	Journaled int `json:"journaled"`
	// Other is how many got any other answer, or none. A run's Sent is OK +
	// Journaled + Other; in medians each is the median of its own, so
	// Other is never derived from the other medians (which could make it
	// negative).
	Other int `json:"other"`
	// EventsPerSec is 200 answers per second of the whole run, from the
	// first request to the last answer.
	EventsPerSec float64 `json:"events_per_sec"`
	// Latencies of answered requests (any status), in milliseconds, exact.
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Statuses counts answers by HTTP status; "error" counts requests that
	// got no answer. They sum to Sent.
	Statuses map[string]int `json:"statuses"`
	// Samples is the first answer body of each status but 200.
	Samples map[string]string `json:"samples,omitempty"`
	// CDNCalls is how many purge calls the stand-in received.
	CDNCalls int `json:"cdn_calls"`
	// URLsPerCallMean and URLsPerCallMax describe the single-file calls.
	URLsPerCallMean float64 `json:"urls_per_call_mean"`
	URLsPerCallMax  int     `json:"urls_per_call_max"`
	// CDN429 is how many calls the stand-in answered 429.
	CDN429 int `json:"cdn_429"`
	// MaxURLsPerSec is the most URLs the stand-in received in any window
	// of one second, answered or throttled.
	MaxURLsPerSec int `json:"max_urls_per_sec"`
	// PeakRSSMB is the server's VmHWM in MiB.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// ElapsedS is the run's wall time.
	ElapsedS float64 `json:"elapsed_s"`
	// ServerCPUPct is the server's CPU time over the run's wall time (100
	// is one core busy); it includes the server's start and stop.
	ServerCPUPct float64 `json:"server_cpu_pct"`
	// ServerCPUUSPerEvent is the server's CPU time over the run, in µs,
	// divided by the events it answered (any status): what one event costs
	// the server, comparable between edgepurge and the bare handler.
	ServerCPUUSPerEvent float64 `json:"server_cpu_us_per_event"`
	// BenchCPUPct is the same for the bench process: the senders and the
	// stand-in, which share the machine with the server.
	BenchCPUPct float64 `json:"bench_cpu_pct"`
	// RedisCPUPct is the same for Redis.
	RedisCPUPct float64 `json:"redis_cpu_pct"`
	// MachineCPUPct is the whole machine's busy time, in % of one core:
	// what is left after the three above is someone else's.
	MachineCPUPct float64 `json:"machine_cpu_pct"`
}

// cpuUse is the CPU the parts of a run used.
type cpuUse struct {
	server, bench, redis time.Duration
	machinePct           float64
}

// NonOK is how many events were not answered 200 (202s included).
func (f Figures) NonOK() int { return f.Sent - f.OK }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newFigures turns a run's raw measurements into figures.
func newFigures(load loadResult, cdn cdnFigures, throttled int, rssBytes int64, cpu cpuUse) Figures {
	f := Figures{
		Sent:            load.sent,
		OK:              load.ok(),
		Journaled:       load.statuses[202],
		Other:           load.sent - load.ok() - load.statuses[202],
		P50MS:           ms(percentile(load.latencies, 50)),
		P90MS:           ms(percentile(load.latencies, 90)),
		P99MS:           ms(percentile(load.latencies, 99)),
		MaxMS:           ms(percentile(load.latencies, 100)),
		Statuses:        map[string]int{},
		CDNCalls:        cdn.calls,
		URLsPerCallMean: cdn.urlsMean,
		URLsPerCallMax:  cdn.urlsMax,
		CDN429:          throttled,
		MaxURLsPerSec:   cdn.maxURLsInSec,
		PeakRSSMB:       float64(rssBytes) / (1 << 20),
		ElapsedS:        load.elapsed.Seconds(),
	}
	if load.elapsed > 0 {
		f.EventsPerSec = float64(f.OK) / load.elapsed.Seconds()
		f.ServerCPUPct = 100 * cpu.server.Seconds() / load.elapsed.Seconds()
		f.BenchCPUPct = 100 * cpu.bench.Seconds() / load.elapsed.Seconds()
		f.RedisCPUPct = 100 * cpu.redis.Seconds() / load.elapsed.Seconds()
		f.MachineCPUPct = cpu.machinePct
	}
	answered := 0
	for _, n := range load.statuses {
		answered += n
	}
	if answered > 0 {
		f.ServerCPUUSPerEvent = float64(cpu.server.Microseconds()) / float64(answered)
	}
	for code, n := range load.statuses {
		f.Statuses[statusName(code)] = n
	}
	for code, s := range load.samples {
		if f.Samples == nil {
			f.Samples = map[string]string{}
		}
		f.Samples[statusName(code)] = s
	}
	return f
}

func statusName(code int) string {
	if code == statusError {
		return "error"
	}
	return strconv.Itoa(code)
}

// medianFigures takes the median of every figure separately across runs;
// counts are rounded to whole numbers. Samples come from the first run
// that has one for a status.
func medianFigures(runs []Figures) Figures {
	if len(runs) == 0 {
		return Figures{}
	}
	pick := func(get func(Figures) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = get(r)
		}
		return median(xs)
	}
	count := func(get func(Figures) int) int {
		return int(math.Round(pick(func(f Figures) float64 { return float64(get(f)) })))
	}
	m := Figures{
		Sent:                count(func(f Figures) int { return f.Sent }),
		OK:                  count(func(f Figures) int { return f.OK }),
		Journaled:           count(func(f Figures) int { return f.Journaled }),
		Other:               count(func(f Figures) int { return f.Other }),
		EventsPerSec:        pick(func(f Figures) float64 { return f.EventsPerSec }),
		P50MS:               pick(func(f Figures) float64 { return f.P50MS }),
		P90MS:               pick(func(f Figures) float64 { return f.P90MS }),
		P99MS:               pick(func(f Figures) float64 { return f.P99MS }),
		MaxMS:               pick(func(f Figures) float64 { return f.MaxMS }),
		CDNCalls:            count(func(f Figures) int { return f.CDNCalls }),
		URLsPerCallMean:     pick(func(f Figures) float64 { return f.URLsPerCallMean }),
		URLsPerCallMax:      count(func(f Figures) int { return f.URLsPerCallMax }),
		CDN429:              count(func(f Figures) int { return f.CDN429 }),
		MaxURLsPerSec:       count(func(f Figures) int { return f.MaxURLsPerSec }),
		PeakRSSMB:           pick(func(f Figures) float64 { return f.PeakRSSMB }),
		ElapsedS:            pick(func(f Figures) float64 { return f.ElapsedS }),
		ServerCPUPct:        pick(func(f Figures) float64 { return f.ServerCPUPct }),
		BenchCPUPct:         pick(func(f Figures) float64 { return f.BenchCPUPct }),
		ServerCPUUSPerEvent: pick(func(f Figures) float64 { return f.ServerCPUUSPerEvent }),
		RedisCPUPct:         pick(func(f Figures) float64 { return f.RedisCPUPct }),
		MachineCPUPct:       pick(func(f Figures) float64 { return f.MachineCPUPct }),
		Statuses:            map[string]int{},
	}
	codes := map[string]bool{}
	for _, r := range runs {
		for code := range r.Statuses {
			codes[code] = true
		}
	}
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		m.Statuses[code] = count(func(f Figures) int { return f.Statuses[code] })
		for _, r := range runs {
			if s, ok := r.Samples[code]; ok {
				if m.Samples == nil {
					m.Samples = map[string]string{}
				}
				m.Samples[code] = s
				break
			}
		}
	}
	return m
}

// worst returns the largest value of a count across runs, for targets that
// must hold in every run.
func worst(runs []Figures, get func(Figures) int) int {
	w := 0
	for _, r := range runs {
		w = max(w, get(r))
	}
	return w
}
