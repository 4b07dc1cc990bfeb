package bench

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// StubSpec configures the Cloudflare stand-in of a phase.
type StubSpec struct {
	// Latency is added to every API answer.
	Latency time.Duration
	// URLRate is the account's single-file purge bucket in URLs/s; 0 means
	// no bucket.
	URLRate float64
	// URLBurst is the bucket's size; 0 means the stand-in's default.
	URLBurst int
	// MaxItemsPerCall is the per-call limit; 0 means 100.
	MaxItemsPerCall int
	// FlexRate and FlexBurst are the tag/host/prefix bucket, calls per
	// second; 0 means none.
	FlexRate  float64
	FlexBurst int
}

func (s StubSpec) maxItems() int {
	if s.MaxItemsPerCall <= 0 {
		return cfstub.DefaultMaxItemsPerCall
	}
	return s.MaxItemsPerCall
}

// urlBurst is the bucket size the stand-in really uses (its default is one
// second's worth, and never less than one maximal call).
func (s StubSpec) urlBurst() int {
	if s.URLBurst > 0 {
		return s.URLBurst
	}
	return max(int(math.Ceil(s.URLRate)), s.maxItems())
}

// urlsPerSecondAllowed is the most URLs a token bucket lets through within
// any one second: a full bucket plus one second of refill. 0 means no
// bucket.
func (s StubSpec) urlsPerSecondAllowed() int {
	if s.URLRate <= 0 {
		return 0
	}
	return s.urlBurst() + int(math.Floor(s.URLRate))
}

func (s StubSpec) options(token string) cfstub.Options {
	return cfstub.Options{
		Tokens:          []string{token},
		Zones:           []string{benchZone},
		MaxItemsPerCall: s.MaxItemsPerCall,
		URLRate:         s.URLRate,
		URLBurst:        s.URLBurst,
		FlexRate:        s.FlexRate,
		FlexBurst:       s.FlexBurst,
		Latency:         s.Latency,
	}
}

func (s StubSpec) String() string {
	if s.URLRate <= 0 {
		return fmt.Sprintf("%s, no bucket, %d/call", s.Latency, s.maxItems())
	}
	return fmt.Sprintf("%s, %g URL/s, %d/call", s.Latency, s.URLRate, s.maxItems())
}

// Phase is one measured configuration: a server, a stand-in and a load.
type Phase struct {
	Name string
	// About says what the phase shows, for the report.
	About string
	// Own names the bench's own handler the phase runs instead of
	// edgepurge serve: ownBare (signature check and JSON parse only) or
	// ownNaive (and one Cloudflare call an event); "" runs edgepurge.
	Own string
	// Cover gives every page the cover tag page:{page_id}, so that the
	// queue may escalate (issue 10).
	Cover       bool
	Stub        StubSpec
	Work        Workload
	Concurrency int
}

// The bench's own handlers (Phase.Own).
const (
	ownBare  = "bare"
	ownNaive = "naive"
)

// The stand-in of the storm scenarios: a Pro account seen from far away,
// its URL bucket and its tag/host bucket (5 calls/s, burst 25).
var stormStub = StubSpec{Latency: 50 * time.Millisecond, URLRate: 1500, FlexRate: 5, FlexBurst: 25}

// DefaultPhases are the phases of issue 4's four scenarios, in the order
// they run.
func DefaultPhases() []Phase {
	hot := Workload{Pages: 1, IncidentsPerPage: 1}
	return []Phase{
		{Name: "hot", About: "1 page, one incident: throughput", Stub: stormStub, Work: hot, Concurrency: 1000},
		{Name: "hot-latency", About: "1 page, one incident: latency", Stub: stormStub, Work: hot, Concurrency: 64},
		{Name: "many", About: "500 pages, 3 incidents each, random", Stub: stormStub,
			Work: Workload{Pages: 500, IncidentsPerPage: 3}, Concurrency: 256},
		{Name: "many-cover", About: "many, pages with a cover tag (escalation)", Cover: true, Stub: stormStub,
			Work: Workload{Pages: 500, IncidentsPerPage: 3}, Concurrency: 1000},
		{Name: "overhead", About: "hot's events, stand-in 0 ms, no bucket", Stub: StubSpec{}, Work: hot, Concurrency: 256},
		{Name: "bare", About: "signature check + JSON parse only", Own: ownBare, Work: hot, Concurrency: 256},
		{Name: "naive", About: "hot's events, one Cloudflare call each, no coalescing", Own: ownNaive, Stub: stormStub, Work: hot, Concurrency: 1000},
	}
}

// scenarioPhases maps each scenario of issue 4 to its phases.
var scenarioPhases = map[string][]string{
	"hot":      {"hot", "hot-latency"},
	"many":     {"many", "many-cover"},
	"overhead": {"overhead", "bare"},
	"naive":    {"naive"},
}

// SelectPhases returns the phases named by a comma-separated list of
// scenarios (hot, many, overhead, naive), phase names (hot-latency, bare)
// or "all", in the default order.
func SelectPhases(list string) ([]Phase, error) {
	want := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case name == "all":
			for _, names := range scenarioPhases {
				for _, n := range names {
					want[n] = true
				}
			}
		case scenarioPhases[name] != nil:
			for _, n := range scenarioPhases[name] {
				want[n] = true
			}
		case slices.ContainsFunc(DefaultPhases(), func(p Phase) bool { return p.Name == name }):
			want[name] = true
		default:
			return nil, fmt.Errorf("unknown scenario %q: want all, hot, many, overhead, naive, hot-latency, many-cover or bare", name)
		}
	}
	var out []Phase
	for _, p := range DefaultPhases() {
		if want[p.Name] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario selected")
	}
	return out, nil
}

// ParseConcurrency reads a --concurrency value: a number for every phase
// ("4"), or phase=number pairs ("hot=500,many=128"), or both ("64,hot=1000").
// The key "*" of the result is the number for every phase.
func ParseConcurrency(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, num, named := strings.Cut(part, "=")
		if !named {
			name, num = "*", part
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("concurrency %q: want a positive number, or phase=number", part)
		}
		out[strings.TrimSpace(name)] = n
	}
	return out, nil
}
