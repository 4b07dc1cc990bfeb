package fault

import (
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// Redis is killed (SIGKILL) mid-load and restarted empty 1.5 s later. The
// CDN part of every event is purged all the same (the one exception to the
// order Redis-then-CDNs: the origin cannot render from an unreachable
// Redis either); the Redis part cannot be done nor journaled (the journal
// is in Redis) — or the registry cannot be read, so the plan is incomplete
// — so those events are answered 503 and the caller retries them.
func TestFaultRedisKilledAndRestarted(t *testing.T) {
	e := newFaultEnv(t, faultOptions{privateRedis: true})
	p := e.serve()
	l := e.startLoad(p.Base, 300, 8, 100*time.Millisecond)
	l.waitSent(60)
	e.redis.Stop()
	time.Sleep(1500 * time.Millisecond)
	e.redis.Restart()
	events := l.wait()
	c := e.invariant(events, 10*time.Second, false, nil)
	if c.failed5xx == 0 || c.byCode[503] != c.failed5xx {
		t.Errorf("with Redis down, want only 503s: %s", c)
	}
	// Every 503 of the outage still purged its CDN part.
	purged := e.stub.Purged(proc.Zone, "files")
	for _, s := range events {
		if s.code != 503 {
			continue
		}
		// Either the Redis step failed and could not be journaled, or the
		// registry could not be read (the plan is incomplete: the default
		// rule's hosts were purged, Redis may have been back by then).
		redisFailed := len(s.answer.Results) == 2 && s.answer.Results[1].Backend == "redis" && s.answer.Results[1].Status == "failed" && s.answer.JournalError != ""
		incomplete := s.answer.Plan.Incomplete && len(s.answer.Plan.Warnings) > 0
		if s.answer.Status != "partial" || len(s.answer.Results) != 2 || s.answer.Results[0].Status != "ok" || !(redisFailed || incomplete) {
			t.Errorf("event %s: 503 answer %+v", s.page, s.answer)
			continue
		}
		for _, u := range s.answer.Plan.URLs {
			if at, ok := purged[u]; !ok || at.Before(s.at) {
				t.Errorf("event %s: %s not purged at the CDN with Redis down", s.page, u)
				break
			}
		}
	}
}
