package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/internal/webhook"
)

// Paths of the two hook endpoints the load generator posts to.
const (
	hookPath       = "/v1/hooks/events"
	statuspagePath = "/v1/hooks/statuspage/"
)

// Workload says which events a phase sends.
type Workload struct {
	// Pages is how many distinct status pages the events name.
	Pages int
	// IncidentsPerPage is how many incidents each page has; an event picks
	// one at random. 1 makes every event of a page the same incident.
	IncidentsPerPage int
	// StatuspageShare is the fraction of events sent Statuspage-shaped to
	// /v1/hooks/statuspage/{token} instead of signed to /v1/hooks/events.
	StatuspageShare float64
}

// request is one event ready to post.
type request struct {
	path       string
	id         string // webhook-id; empty for a Statuspage notification
	timestamp  string
	signature  string
	body       []byte
	statuspage bool
}

// generator builds the events of one sender. Each sender owns one, so it
// needs no locking; ids are unique across senders through the sender index.
type generator struct {
	work   Workload
	runID  string
	sender int
	seq    int
	secret string
	token  string
	rnd    *rand.Rand
	buf    []byte
}

func newGenerator(w Workload, runID string, sender int, secret, token string) *generator {
	return &generator{
		work: w, runID: runID, sender: sender, secret: secret, token: token,
		rnd: rand.New(rand.NewPCG(uint64(sender)+1, uint64(len(runID)))),
	}
}

// pageID names page i of a workload.
func pageID(i int) string { return "bench-p" + strconv.Itoa(i) }

// next returns the sender's next event. Every event has a new id, so that
// the server's duplicate detection never answers one as a retry.
func (g *generator) next(now time.Time) (request, error) {
	g.seq++
	page := pageID(g.rnd.IntN(max(g.work.Pages, 1)))
	incident := "bench-inc" + strconv.Itoa(g.rnd.IntN(max(g.work.IncidentsPerPage, 1)))
	unique := g.runID + "-" + strconv.Itoa(g.sender) + "-" + strconv.Itoa(g.seq)
	occurred := now.UTC().Format(time.RFC3339Nano)

	if g.token != "" && g.work.StatuspageShare > 0 && g.rnd.Float64() < g.work.StatuspageShare {
		g.buf = appendStatuspage(g.buf[:0], page, incident, "upd-"+unique, occurred)
		return request{path: statuspagePath + g.token, body: g.buf, statuspage: true}, nil
	}
	g.buf = appendHook(g.buf[:0], page, incident, occurred)
	id := "msg_" + unique
	sig, err := webhook.Sign(g.secret, id, now, g.buf)
	if err != nil {
		return request{}, fmt.Errorf("sign event: %w", err)
	}
	return request{
		path: hookPath, id: id, timestamp: strconv.FormatInt(now.Unix(), 10),
		signature: sig, body: g.buf,
	}, nil
}

// appendHook appends the core app's incident.updated event. The ids are
// plain [a-z0-9-], so no JSON escaping is needed.
func appendHook(b []byte, page, incident, occurred string) []byte {
	b = append(b, `{"type":"incident.updated","page_id":"`...)
	b = append(b, page...)
	b = append(b, `","incident_id":"`...)
	b = append(b, incident...)
	b = append(b, `","occurred_at":"`...)
	b = append(b, occurred...)
	return append(b, `"}`...)
}

// appendStatuspage appends a Statuspage incident notification with two
// updates (so it reads as incident.updated) whose newest has a unique id,
// which makes the server's derived event id unique too.
func appendStatuspage(b []byte, page, incident, updateID, occurred string) []byte {
	b = append(b, `{"meta":{"unsubscribe":"https://status.example.test/?unsubscribe=bench","documentation":"https://doers.statuspage.io/customer-notifications/webhooks/"},"page":{"id":"`...)
	b = append(b, page...)
	b = append(b, `","status_indicator":"major","status_description":"Partial System Outage"},"incident":{"id":"`...)
	b = append(b, incident...)
	b = append(b, `","name":"Elevated error rates","status":"identified","impact":"major","scheduled_for":null,"updated_at":"`...)
	b = append(b, occurred...)
	b = append(b, `","incident_updates":[{"id":"`...)
	b = append(b, updateID...)
	b = append(b, `","status":"identified","body":"The cause was found.","created_at":"`...)
	b = append(b, occurred...)
	b = append(b, `","updated_at":"`...)
	b = append(b, occurred...)
	b = append(b, `"},{"id":"first-update","status":"investigating","body":"We are looking into it.","created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"}]}}`...)
	return b
}
