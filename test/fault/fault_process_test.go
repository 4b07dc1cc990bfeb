package fault

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// The instance is SIGKILLed while the CDN fails and entries are
// journaled; a second instance (same Redis and group, its own consumer
// name) takes the load and, once the CDN is back, the abandoned entries
// (XAUTOCLAIM after journal.claim_idle).
func TestFaultProcessKilledSecondInstanceTakesOver(t *testing.T) {
	e := newFaultEnv(t, faultOptions{})
	a := e.serve()
	l := e.startLoad(a.Base, 300, 8, 100*time.Millisecond)
	l.WaitSent(60)
	e.stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	waitUntil(t, "entries journaled by the first instance", 10*time.Second, func() bool { return e.journalLen() >= 10 })
	if err := a.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Exited(t, 10*time.Second)
	held := e.journalLen()
	killedAt := l.Done()
	time.Sleep(300 * time.Millisecond) // events meet the dead instance

	b := e.serveLive()
	l.target.Store(&b.Base)
	t.Logf("killed after %d events; second instance serving after %d", killedAt, l.Done())
	time.Sleep(time.Second) // b journals a few of its own
	e.stub.ClearFailure()
	events := l.Wait()
	c := e.invariant(events, 15*time.Second, true, nil)
	if c.Refused == 0 && c.Cut == 0 {
		t.Log("no event met the dead instance")
	}
	waitUntil(t, "the journal to empty", 10*time.Second, func() bool { return e.journalLen() == 0 })
	if !strings.Contains(b.Logs.String(), "took over an abandoned entry") {
		t.Errorf("the second instance took over nothing; %d entries were left by the first", held)
	}
	t.Logf("the killed instance left %d journal entries; the second took them over", held)
}

// SIGTERM under load: readiness turns 503, the listener closes after the
// drain delay, every request accepted is answered in full, the process
// exits 0; a later instance re-drives what was journaled.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	e := newFaultEnv(t, faultOptions{})
	a := e.serve()
	e.stub.SetLatency(150 * time.Millisecond) // requests are in flight at the signal
	l := e.startLoad(a.Base, 300, 16, 20*time.Millisecond)
	l.WaitSent(120)
	if err := a.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Exited(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	events := l.Wait()
	e.stub.SetLatency(0)
	b := e.serve() // the next instance of a rolling deploy
	c := e.invariant(events, 10*time.Second, false, nil)
	if c.Refused == 0 {
		t.Error("no request met the closed listener: the signal came too late to test anything")
	}
	if !strings.Contains(a.Logs.String(), "draining") || !strings.Contains(a.Logs.String(), "journal re-driver stopped") {
		t.Errorf("no drain or re-driver stop in the logs:\n%s", tail(a.Logs.String(), 3000))
	}
	waitUntil(t, "the journal to empty", 10*time.Second, func() bool { return e.journalLen() == 0 })
	_ = b
}
