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
	l.WaitSent(60)
	e.redis.Stop()
	time.Sleep(1500 * time.Millisecond)
	e.redis.Restart()
	events := l.Wait()
	c := e.invariant(events, 10*time.Second, false, nil)
	if c.Failed5xx == 0 || c.ByCode[503] != c.Failed5xx {
		t.Errorf("with Redis down, want only 503s: %s", c)
	}
	// Every 503 of the outage still purged its CDN part.
	purged := e.stub.Purged(proc.Zone, "files")
	for _, s := range events {
		if s.Code != 503 {
			continue
		}
		// Either the Redis step failed and could not be journaled, or the
		// registry could not be read (the plan is incomplete: the default
		// rule's hosts were purged, Redis may have been back by then).
		redisFailed := len(s.Answer.Results) == 2 && s.Answer.Results[1].Backend == "redis" && s.Answer.Results[1].Status == "failed" && s.Answer.JournalError != ""
		incomplete := s.Answer.Plan.Incomplete && len(s.Answer.Plan.Warnings) > 0
		if s.Answer.Status != "partial" || len(s.Answer.Results) != 2 || s.Answer.Results[0].Status != "ok" || !(redisFailed || incomplete) {
			t.Errorf("event %s: 503 answer %+v", s.Page, s.Answer)
			continue
		}
		for _, u := range s.Answer.Plan.URLs {
			if at, ok := purged[u]; !ok || at.Before(s.At) {
				t.Errorf("event %s: %s not purged at the CDN with Redis down", s.Page, u)
				break
			}
		}
	}
}
