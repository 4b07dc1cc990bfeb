// Package history keeps this process's own recent history of purges for
// the on-call console: per time slot (10 s by default, 15 minutes in all),
// how many purges ended in which way and how fresh their pages became
// (the freshness lag). It is a fixed ring in memory, fed by the pipeline's
// outcomes, so the console can draw its charts without Prometheus. It is
// per process: after a restart it starts empty, and each instance has its
// own.
package history

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultSlot   = 10 * time.Second
	DefaultWindow = 15 * time.Minute
)

// lagSamples bounds the lags a slot keeps for its quantiles (a uniform
// reservoir sample past that), so a storm costs no more memory than a
// quiet minute.
const lagSamples = 256

// Kinds of outcome a slot counts, from an answer's status: the console's
// list of purges sorts the audit trail's statuses the same way, so that the
// chart and the list beside it count alike.
const (
	// KindOK: purged.
	KindOK = "ok"
	// KindDryRun: planned, nothing purged; never counted as ok.
	KindDryRun = "dry_run"
	// KindJournaled: answered 202, left to the journal's re-drive.
	KindJournaled = "journaled"
	// KindFailed: partial, failed, stale or refused.
	KindFailed = "failed"
)

// History is the ring. It is safe for concurrent use.
type History struct {
	slot  time.Duration
	now   func() time.Time
	mu    sync.Mutex
	slots []slot // ring, by slot number modulo len
}

type slot struct {
	n         int64 // the slot's number: its start / slot; 0 when unused
	ok        int
	dryRun    int
	journaled int
	failed    int
	lagCount  int
	lagSum    float64
	lagMax    float64
	lags      []float64
}

// New returns an empty History of window, in slots of slot (the defaults
// when zero).
func New(slotLen, window time.Duration) *History {
	if slotLen <= 0 {
		slotLen = DefaultSlot
	}
	if window < slotLen {
		window = DefaultWindow
	}
	return &History{slot: slotLen, now: time.Now, slots: make([]slot, int(window/slotLen))}
}

// Kind maps an answer's status to the kind a slot counts.
func Kind(status string) string {
	switch status {
	case "purged":
		return KindOK
	case "dry_run":
		return KindDryRun
	case "journaled":
		return KindJournaled
	}
	return KindFailed
}

// Observe records one purge ended with status (an answer's status) at
// now; lag is its freshness lag, or negative when it has none (no
// occurred_at, or not purged).
func (h *History) Observe(status string, lag time.Duration) {
	h.observe(h.now(), Kind(status), lag)
}

func (h *History) observe(at time.Time, kind string, lag time.Duration) {
	n := at.UnixNano() / int64(h.slot)
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &h.slots[int(n%int64(len(h.slots)))]
	if s.n != n {
		*s = slot{n: n, lags: s.lags[:0]}
	}
	switch kind {
	case KindOK:
		s.ok++
	case KindDryRun:
		s.dryRun++
	case KindJournaled:
		s.journaled++
	default:
		s.failed++
	}
	if lag < 0 {
		return
	}
	v := lag.Seconds()
	s.lagCount++
	s.lagSum += v
	s.lagMax = max(s.lagMax, v)
	if len(s.lags) < lagSamples {
		s.lags = append(s.lags, v)
	} else if i := rand.IntN(s.lagCount); i < lagSamples {
		s.lags[i] = v
	}
}

// Slot is one time slot of a Snapshot.
type Slot struct {
	// Start is when the slot began.
	Start time.Time `json:"start"`
	// Purges is how many purges ended in the slot: OK + DryRun + Journaled
	// + Failed.
	Purges    int `json:"purges"`
	OK        int `json:"ok"`
	DryRun    int `json:"dry_run"`
	Journaled int `json:"journaled"`
	Failed    int `json:"failed"`
	// LagCount is how many of them had a freshness lag; the lag fields
	// are 0 when none did.
	LagCount       int     `json:"lag_count"`
	LagMeanSeconds float64 `json:"lag_mean_seconds"`
	LagP99Seconds  float64 `json:"lag_p99_seconds"`
	LagMaxSeconds  float64 `json:"lag_max_seconds"`
}

// Snapshot is the recent history, oldest slot first.
type Snapshot struct {
	// Now is when the snapshot was taken.
	Now time.Time `json:"now"`
	// SlotSeconds is each slot's length, WindowSeconds the whole.
	SlotSeconds   float64 `json:"slot_seconds"`
	WindowSeconds float64 `json:"window_seconds"`
	// Slots cover the window, oldest first, the current (unfinished) one
	// last; a slot without purges is there with zeros.
	Slots []Slot `json:"slots"`
	// Totals add up every slot.
	Totals Slot `json:"totals"`
}

// Snapshot returns the window ending now.
func (h *History) Snapshot() Snapshot {
	now := h.now()
	cur := now.UnixNano() / int64(h.slot)
	size := int64(len(h.slots))
	out := Snapshot{
		Now: now.UTC(), SlotSeconds: h.slot.Seconds(), WindowSeconds: (time.Duration(size) * h.slot).Seconds(),
		Slots: make([]Slot, 0, size),
	}
	var all []float64
	h.mu.Lock()
	defer h.mu.Unlock()
	for n := cur - size + 1; n <= cur; n++ {
		o := Slot{Start: time.Unix(0, n*int64(h.slot)).UTC()}
		if s := h.slots[int(n%size)]; s.n == n {
			o.OK, o.DryRun, o.Journaled, o.Failed = s.ok, s.dryRun, s.journaled, s.failed
			o.Purges = s.ok + s.dryRun + s.journaled + s.failed
			o.LagCount, o.LagMaxSeconds = s.lagCount, s.lagMax
			if s.lagCount > 0 {
				o.LagMeanSeconds = s.lagSum / float64(s.lagCount)
				o.LagP99Seconds = quantile(s.lags, 0.99)
			}
			all = append(all, s.lags...)
			t := &out.Totals
			t.OK, t.DryRun, t.Journaled, t.Failed, t.Purges = t.OK+o.OK, t.DryRun+o.DryRun, t.Journaled+o.Journaled, t.Failed+o.Failed, t.Purges+o.Purges
			t.LagMeanSeconds += s.lagSum
			t.LagCount += s.lagCount
			t.LagMaxSeconds = max(t.LagMaxSeconds, s.lagMax)
		}
		out.Slots = append(out.Slots, o)
	}
	out.Totals.Start = out.Slots[0].Start
	if out.Totals.LagCount > 0 {
		out.Totals.LagMeanSeconds /= float64(out.Totals.LagCount)
		out.Totals.LagP99Seconds = quantile(all, 0.99)
	}
	return out
}

// quantile is the q-quantile of vs (nearest rank); vs is not changed.
func quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
