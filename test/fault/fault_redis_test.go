package fault

import (
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// Redis is killed (SIGKILL) mid-load and restarted empty 1.5 s later. The
// CDN part of every event is purged all the same; the Redis part cannot be
// done nor journaled (the journal is in Redis), so those events are
// answered 503 and the caller retries them.
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
		if s.answer.Status != "partial" || len(s.answer.Results) != 2 || s.answer.Results[0].Status != "ok" ||
			s.answer.Results[1].Backend != "redis" || s.answer.Results[1].Status != "failed" || s.answer.JournalError == "" {
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
