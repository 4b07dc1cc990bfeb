package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/journal"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

const deadZone = "zone-dead"

// failingZone answers every purge of one zone 500, as an outage of that
// zone alone would, while failing is set.
func failingZone(failing *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() && strings.Contains(r.URL.Path, "/zones/"+deadZone+"/purge_cache") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"success":false,"errors":[{"code":10000,"message":"Internal server error"}],"messages":[],"result":null}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// A zone that keeps failing with retryable errors: its events are
// journaled (202), re-driven until journal.max_age, then moved to the dead
// letters — counted in the metrics, listed by `edgepurge journal --dead`,
// and purged by `edgepurge replay --dead` once the zone is back. Events of
// the healthy zone are purged as usual.
func TestFaultDeadLetters(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	// No breaker: it is per backend, not per zone, and would turn the one
	// bad zone into failures of every zone (journaled and re-driven, but
	// not what this test is about).
	e := newFaultEnv(t, faultOptions{wrap: failingZone(&failing), maxAge: 2 * time.Second, breaker: "disabled: true"})
	// Every tenth page is served from the failing zone (Redis registry).
	ctx := context.Background()
	dead := func(page string) bool {
		n, _ := strconv.Atoi(strings.TrimPrefix(page, "f"))
		return n%10 == 0
	}
	for i := 0; i < 300; i += 10 {
		page := fmt.Sprintf("f%d", i)
		if err := e.rdb.HSet(ctx, e.prefix+"page:"+page, "hosts", page+".status.example.com", "zone", deadZone).Err(); err != nil {
			t.Fatal(err)
		}
	}
	p := e.serve()
	l := e.startLoad(p.Base, 300, 8, 30*time.Millisecond)
	waitUntil(t, "entries of the failing zone", 10*time.Second, func() bool { return e.journalLen() > 0 })
	out, code := proc.Run(t, e.env(), "journal", "--json")
	var pending []journal.Pending
	if err := json.Unmarshal([]byte(out), &pending); code != 0 || err != nil || len(pending) == 0 || pending[0].Zone != deadZone {
		t.Errorf("edgepurge journal --json while the zone fails: exit %d, %v: %q", code, err, out)
	}
	events := l.Wait()
	c := e.invariant(events, 10*time.Second, false, dead)

	var journaled []string
	for _, s := range events {
		if dead(s.Page) && s.Code == http.StatusAccepted {
			journaled = append(journaled, s.Answer.ID)
		}
	}
	if len(journaled) != 30 {
		t.Errorf("%d events of the failing zone journaled, want 30", len(journaled))
	}
	waitUntil(t, "every entry of the failing zone to die", 15*time.Second, func() bool {
		return e.journalLen() == 0 && metricValue(t, p, "edgepurge_journal_dead_letters_total") == strconv.Itoa(len(journaled))
	})
	out, code = proc.Run(t, e.env(), "journal", "--dead", "--json")
	var dl []journal.Dead
	if err := json.Unmarshal([]byte(out), &dl); code != 0 || err != nil {
		t.Fatalf("edgepurge journal --dead --json: exit %d, %v:\n%s", code, err, out)
	}
	var buried []string
	for _, d := range dl {
		buried = append(buried, d.EventID)
		if d.Zone != deadZone || !strings.Contains(d.Reason, "journal.max_age (2s)") || d.Attempts < 2 || len(d.URLs) != 11 || !strings.Contains(d.Error, "HTTP 500") {
			t.Errorf("dead letter %+v", d)
		}
	}
	slices.Sort(buried)
	slices.Sort(journaled)
	if !slices.Equal(buried, journaled) {
		t.Errorf("dead letters %v, want the journaled events of the failing zone %v", buried, journaled)
	}
	out, code = proc.Run(t, e.env(), "journal", "--dead")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d dead letters", len(journaled))) || !strings.Contains(out, "still failing after journal.max_age (2s)") {
		t.Errorf("edgepurge journal --dead: exit %d:\n%s", code, out)
	}
	if out, code := proc.Run(t, e.env(), "journal"); code != 0 || !strings.Contains(out, "the journal is empty") {
		t.Errorf("edgepurge journal: exit %d:\n%s", code, out)
	}

	// The zone is back: replay the dead letters by hand.
	failing.Store(false)
	start := time.Now()
	out, code = proc.Run(t, e.env(), "replay", "--dead")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d of %d purged", len(journaled), len(journaled))) {
		t.Fatalf("edgepurge replay --dead: exit %d:\n%s", code, out)
	}
	purged := e.stub.Purged(deadZone, "files")
	for _, s := range events {
		if !dead(s.Page) {
			continue
		}
		for _, u := range s.Answer.Plan.URLs {
			if at, ok := purged[u]; !ok || at.Before(start) {
				t.Errorf("event %s: %s not purged by the replay", s.Page, u)
				break
			}
		}
	}
	if out, _ := proc.Run(t, e.env(), "journal", "--dead"); !strings.Contains(out, "no dead letters") {
		t.Errorf("dead letters left after the replay:\n%s", out)
	}
	t.Logf("%d events of the failing zone went to the dead letters and were replayed; %s", len(journaled), c)
}
