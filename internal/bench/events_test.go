package bench

import (
	"strconv"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/statuspage"
	"github.com/edgepurge/edgepurge/internal/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestGeneratorEventsAreAccepted checks that what the senders post is what
// the server accepts: a valid signature, a parsable body, a page of the
// workload, and an id never seen before (or the server answers duplicate).
func TestGeneratorEventsAreAccepted(t *testing.T) {
	v, err := webhook.NewVerifier([]string{testSecret}, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	w := Workload{Pages: 5, IncidentsPerPage: 2, StatuspageShare: 0.5}
	ids := map[string]bool{}
	kinds := map[bool]int{}
	for sender := range 3 {
		g := newGenerator(w, "run1", sender, testSecret, "sp-token")
		for range 200 {
			req, err := g.next(now)
			if err != nil {
				t.Fatal(err)
			}
			var ev event.Event
			if req.statuspage {
				if req.path != statuspagePath+"sp-token" {
					t.Fatalf("statuspage path %q", req.path)
				}
				ev, err = statuspage.Parse(req.body)
			} else {
				if req.path != hookPath || req.timestamp != strconv.FormatInt(now.Unix(), 10) {
					t.Fatalf("hook path %q, timestamp %q", req.path, req.timestamp)
				}
				if err := v.Verify(req.id, req.timestamp, req.signature, req.body, now); err != nil {
					t.Fatalf("signature: %v", err)
				}
				ev, err = event.ParseHook(req.id, req.body)
			}
			if err != nil {
				t.Fatalf("parse %s: %v", req.body, err)
			}
			if ev.Type != event.IncidentUpdated || ev.IncidentID != "bench-inc0" && ev.IncidentID != "bench-inc1" {
				t.Errorf("event %+v", ev)
			}
			if p, err := strconv.Atoi(ev.PageID[len("bench-p"):]); err != nil || p < 0 || p >= 5 {
				t.Errorf("page %q", ev.PageID)
			}
			if ids[ev.ID] {
				t.Fatalf("id %q sent twice", ev.ID)
			}
			ids[ev.ID] = true
			kinds[req.statuspage]++
		}
	}
	if kinds[true] < 200 || kinds[false] < 200 {
		t.Errorf("statuspage/hook split %v of 600, want about half each", kinds)
	}
}

func TestGeneratorWithoutTokenSendsOnlyHooks(t *testing.T) {
	g := newGenerator(Workload{Pages: 1, IncidentsPerPage: 1, StatuspageShare: 1}, "r", 0, testSecret, "")
	for range 50 {
		req, err := g.next(time.Now())
		if err != nil || req.statuspage {
			t.Fatalf("statuspage event without a token (err %v)", err)
		}
	}
}
