package health

import (
	"sync"
	"time"
)

// Backends' names, as in answers, metrics and check names.
const (
	BackendRedis = "redis"
)

// A Target is one place edgepurge purges — Redis, a Cloudflare zone, a
// Fastly service, a Varnish node — and its readiness check: it is fed by
// every call to the target, real events and probes alike, and fails only
// once the target has had no successful call for the Checker's window
// while calls failed. That is what a load balancer and an alert need: a
// breaker cycling open → half-open every few seconds, or one failed call
// among successes, does not make it flap.
//
// A Target is safe for concurrent use.
type Target struct {
	// Backend is the backend's name (cloudflare, fastly, varnish, redis);
	// Name the zone, service or node ("" for Redis).
	Backend, Name string
	check         string
	// provenByProbe says a probe will call the target soon after start:
	// until its first call the target is "not checked yet" (failing, but
	// not gating). Without probes, a target no event has called yet has
	// nothing against it and passes.
	provenByProbe bool
	now           func() time.Time

	mu           sync.Mutex
	lastSuccess  time.Time
	lastFailure  time.Time
	failingSince time.Time
	lastErr      string
	// slots count calls over the last five minutes, slotWidth each, as a
	// ring indexed by the slot's start.
	slots [slotCount]slot
}

// RecentCalls is how far back a TargetStatus counts calls.
const RecentCalls = 5 * time.Minute

// The ring of a Target's recent calls: RecentCalls in 10 s slots, and one
// more for the current, partial one.
const (
	slotWidth = 10 * time.Second
	slotCount = int64(RecentCalls/slotWidth) + 1
)

type slot struct {
	start          time.Time
	calls, failure int
	// items spent from each rate budget ("urls", "calls") by the calls.
	urls, flex int
}

// CheckName is the readiness check of a backend's target: "redis",
// "cloudflare zone Z", "fastly service S", "varnish node URL", "akamai
// network N", "cloudfront distribution D".
func CheckName(backend, target string) string {
	switch {
	case target == "":
		return backend
	case backend == "cloudflare":
		return backend + " zone " + target
	case backend == "fastly":
		return backend + " service " + target
	case backend == "varnish":
		return backend + " node " + target
	case backend == "akamai":
		return backend + " network " + target
	case backend == "cloudfront":
		return backend + " distribution " + target
	default:
		return backend + " " + target
	}
}

// Call records one call to the target: err nil when it succeeded. urls
// and flex are what it spent of the CDN's URL and call budgets.
func (t *Target) Call(err error, urls, flex int) {
	now := t.now()
	t.mu.Lock()
	s := t.slot(now)
	s.calls++
	s.urls += urls
	s.flex += flex
	if err == nil {
		t.lastSuccess, t.failingSince = now, time.Time{}
	} else {
		s.failure++
		t.lastFailure, t.lastErr = now, err.Error()
		if t.failingSince.IsZero() {
			t.failingSince = now
		}
	}
	t.mu.Unlock()
}

// slot is the ring's slot of now, emptied when it held an older one;
// t.mu is held.
func (t *Target) slot(now time.Time) *slot {
	start := now.Truncate(slotWidth)
	s := &t.slots[(start.UnixNano()/int64(slotWidth))%slotCount]
	if !s.start.Equal(start) {
		*s = slot{start: start}
	}
	return s
}

// TargetState is what a Target's check says.
type TargetState string

// States of a Target.
const (
	// StateUnknown: no call yet.
	StateUnknown TargetState = "unknown"
	// StateOK: the last call succeeded.
	StateOK TargetState = "ok"
	// StateDegraded: calls have failed since the last success, for less
	// than the window.
	StateDegraded TargetState = "degraded"
	// StateFailing: no successful call for at least the window while
	// calls failed: the target cannot purge.
	StateFailing TargetState = "failing"
)

// TargetStatus is a Target's record at one time.
type TargetStatus struct {
	Backend      string
	Target       string
	Check        string
	State        TargetState
	LastSuccess  time.Time
	LastFailure  time.Time
	FailingSince time.Time
	// Error is the last failure's, while the target is degraded or
	// failing; LastError is the last failure's whatever the state.
	Error, LastError string
	// Calls and Failures count the calls of the last RecentCalls.
	Calls, Failures int
	// URLs and Flex are what the calls of the last minute spent of the
	// URL and call budgets.
	URLs, Flex int
}

// status is the target's record at now, judged with window.
func (t *Target) status(now time.Time, window time.Duration) TargetStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := TargetStatus{Backend: t.Backend, Target: t.Name, Check: t.check, LastError: t.lastErr,
		LastSuccess: t.lastSuccess, LastFailure: t.lastFailure, FailingSince: t.failingSince}
	switch {
	case t.lastSuccess.IsZero() && t.lastFailure.IsZero():
		st.State = StateUnknown
	case t.failingSince.IsZero():
		st.State = StateOK
	case now.Sub(t.failingSince) >= window:
		st.State, st.Error = StateFailing, t.lastErr
	default:
		st.State, st.Error = StateDegraded, t.lastErr
	}
	for i := range t.slots {
		s := &t.slots[i]
		age := now.Sub(s.start)
		if age < 0 || age >= RecentCalls || s.start.IsZero() {
			continue
		}
		st.Calls += s.calls
		st.Failures += s.failure
		if age < time.Minute {
			st.URLs += s.urls
			st.Flex += s.flex
		}
	}
	return st
}
