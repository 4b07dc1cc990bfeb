package fault

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// cdnFault runs 300 events; from the 60th answered, fault is on for
// 1.5 s, then cleared. The events answered during the outage are
// journaled (202) and re-driven once the CDN is back.
func cdnFault(t *testing.T, fault, clear func(stub *cfstub.Server)) counts {
	e := newFaultEnv(t, faultOptions{})
	p := e.serve()
	l := e.startLoad(p.Base, 300, 8, 100*time.Millisecond)
	l.WaitSent(60)
	fault(e.stub)
	time.Sleep(1500 * time.Millisecond)
	clear(e.stub)
	events := l.Wait()
	c := e.invariant(events, 10*time.Second, false, nil)
	if c.Accepted202 == 0 {
		t.Error("no event was journaled: the fault did not bite")
	}
	waitUntil(t, "the journal to empty", 10*time.Second, func() bool { return e.journalLen() == 0 })
	return c
}

func TestFaultCDN500ThenRecovers(t *testing.T) {
	cdnFault(t,
		func(s *cfstub.Server) {
			s.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
		},
		func(s *cfstub.Server) { s.ClearFailure() })
}

func TestFaultCDN429WithRetryAfterThenRecovers(t *testing.T) {
	cdnFault(t,
		func(s *cfstub.Server) {
			s.SetFailure(cfstub.Failure{Status: http.StatusTooManyRequests, Codes: []int{cfstub.CodeRateLimited}, RetryAfter: time.Second})
		},
		func(s *cfstub.Server) { s.ClearFailure() })
}

func TestFaultCDNHangsThenRecovers(t *testing.T) {
	cdnFault(t, func(s *cfstub.Server) { s.Hang(true) }, func(s *cfstub.Server) { s.Hang(false) })
}

// waitUntil polls cond until it holds, failing the test after within.
func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out after %s waiting for %s", within, what)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
