package journal

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestRedriverPurgesAcknowledgesAndAudits(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	id, err := j.Write(ctx, sampleEntry("msg_1"))
	if err != nil {
		t.Fatal(err)
	}
	p, rec := &scripted{}, &recorder{}
	m := metrics.NewJournal(prometheus.NewRegistry())
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, rec), Consumer: "a-1", Metrics: m})

	eventually(t, "the entry to be re-driven and removed", func() bool {
		n, _ := j.rdb.XLen(ctx, j.cfg.Stream).Result()
		return n == 0 && p.callCount() == 1
	})
	c := p.calls[0]
	if !slices.Equal(c.backends, []string{"cloudflare"}) || c.id != "msg_1" || len(c.p.URLs) != 2 || c.p.Tags[0] != "page:p0" || c.p.Zone != "z" {
		t.Errorf("re-drive call %+v", c)
	}
	if pend, _ := j.rdb.XPending(ctx, j.cfg.Stream, j.cfg.Group).Result(); pend.Count != 0 {
		t.Errorf("%d entries left unacknowledged", pend.Count)
	}
	recs := rec.all()
	if len(recs) != 1 || recs[0].Source != "redrive" || recs[0].ID != "msg_1" || recs[0].Status != "purged" || recs[0].Page != "p0" {
		t.Errorf("audit records %+v", recs)
	}
	eventually(t, "the pending gauge to read 0", func() bool { return testutil.ToFloat64(m.Pending) == 0 })
	if got := testutil.ToFloat64(m.Redrives.WithLabelValues("ok")); got != 1 {
		t.Errorf("redrives{ok} = %v", got)
	}
	_ = id
}

func TestRedriverBacksOffAndCountsAttempts(t *testing.T) {
	j := testJournal(t, func(c *Config) { c.Poll = 50 * time.Millisecond })
	ctx := context.Background()
	id, err := j.Write(ctx, sampleEntry("msg_2"))
	if err != nil {
		t.Fatal(err)
	}
	p := &scripted{}
	p.set("cloudflare", retryable500)
	m := metrics.NewJournal(prometheus.NewRegistry())
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "a-1", Metrics: m})

	eventually(t, "three failed re-drives", func() bool { return testutil.ToFloat64(m.Redrives.WithLabelValues("failed")) >= 3 })
	page, err := j.List(ctx, "", 10)
	list := page.Items
	if err != nil || len(list) != 1 || page.Total != 1 || page.Next != "" {
		t.Fatalf("list: %+v %v", page, err)
	}
	// The request's own attempt, plus every re-drive started (counted in
	// Redis, so another instance would carry on from there).
	if e := list[0]; e.ID != id || e.Consumer != "a-1" || e.Attempts < 4 || e.EventID != "msg_2" {
		t.Errorf("pending entry %+v", e)
	}
	if got := testutil.ToFloat64(m.Pending); got != 1 {
		t.Errorf("pending gauge = %v", got)
	}
	if got := testutil.ToFloat64(m.OldestAge); got <= 0 {
		t.Errorf("oldest age = %v, want > 0", got)
	}
	// Backoff: the pauses grow (50, 100, 200, 400 ms ± 20 %), so far fewer
	// attempts than polls.
	start := p.callCount()
	time.Sleep(time.Second)
	if n := p.callCount() - start; n > 4 {
		t.Errorf("%d attempts in 1 s after 3 failures: no backoff", n)
	}
	p.set("cloudflare", nil)
	eventually(t, "the entry to be re-driven once the CDN recovered", func() bool {
		n, _ := j.rdb.XLen(ctx, j.cfg.Stream).Result()
		return n == 0
	})
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	r := NewRedriver(RedriverConfig{Journal: New(nil, Config{Poll: time.Second, MaxAge: time.Hour})})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		if got := r.backoff(n); got < want*8/10 || got > want*12/10 {
			t.Errorf("backoff(%d) = %s, want %s ± 20 %%", n, got, want)
		}
	}
	small := NewRedriver(RedriverConfig{Journal: New(nil, Config{Poll: 100 * time.Millisecond, MaxAge: 2 * time.Second})})
	if got := small.backoff(10); got > 300*time.Millisecond {
		t.Errorf("backoff with max_age 2s = %s, want at most max_age/8 + 20 %%", got)
	}
}

func TestAbandonedEntriesAreTakenOver(t *testing.T) {
	j := testJournal(t, func(c *Config) { c.ClaimIdle = 500 * time.Millisecond; c.Poll = 50 * time.Millisecond })
	ctx := context.Background()
	for _, ev := range []string{"msg_a", "msg_b", "msg_c"} {
		if _, err := j.Write(ctx, sampleEntry(ev)); err != nil {
			t.Fatal(err)
		}
	}
	// A dead instance read the entries and never finished them.
	if err := j.rdb.XReadGroup(ctx, redisArgs(j, "dead-1")).Err(); err != nil {
		t.Fatal(err)
	}
	p := &scripted{}
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "b-2"})
	eventually(t, "the abandoned entries to be taken over and purged", func() bool {
		n, _ := j.rdb.XLen(ctx, j.cfg.Stream).Result()
		return n == 0
	})
	var ids []string
	for _, c := range p.calls {
		ids = append(ids, c.id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"msg_a", "msg_b", "msg_c"}) {
		t.Errorf("re-driven %v", ids)
	}
}

func TestLiveInstancesDoNotStealHeldEntries(t *testing.T) {
	j := testJournal(t, func(c *Config) {
		c.ClaimIdle = 300 * time.Millisecond
		c.Poll = 30 * time.Millisecond
		c.MaxAge = time.Hour
	})
	ctx := context.Background()
	if _, err := j.Write(ctx, sampleEntry("msg_held")); err != nil {
		t.Fatal(err)
	}
	pa := &scripted{}
	pa.set("cloudflare", retryable500)
	running(t, RedriverConfig{Journal: j, Pipeline: through(pa, nil), Consumer: "a-1"})
	eventually(t, "a to hold the entry", func() bool { return pa.callCount() >= 1 })
	pb := &scripted{}
	running(t, RedriverConfig{Journal: j, Pipeline: through(pb, nil), Consumer: "b-2"})
	time.Sleep(1500 * time.Millisecond) // five claim_idle periods
	if n := pb.callCount(); n != 0 {
		t.Errorf("b re-drove an entry a holds and renews: %d calls", n)
	}
}

func TestEntriesFailingPastMaxAgeAreDeadLettered(t *testing.T) {
	j := testJournal(t, func(c *Config) { c.MaxAge = 400 * time.Millisecond; c.Poll = 20 * time.Millisecond })
	ctx := context.Background()
	id, err := j.Write(ctx, sampleEntry("msg_dead"))
	if err != nil {
		t.Fatal(err)
	}
	p := &scripted{}
	p.set("cloudflare", retryable500)
	m := metrics.NewJournal(prometheus.NewRegistry())
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "a-1", Metrics: m})
	eventually(t, "the entry to die", func() bool { return testutil.ToFloat64(m.DeadLetters) == 1 })
	dead, err := j.ListDead(ctx, "")
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	d := dead[0]
	if d.JournalID != id || d.EventID != "msg_dead" || !strings.Contains(d.Reason, "journal.max_age (400ms)") ||
		d.Attempts < 2 || !strings.Contains(d.Error, "cloudflare: purge 2 urls: HTTP 500") || len(d.URLs) != 2 || d.DeadAt.IsZero() {
		t.Errorf("dead letter %+v", d)
	}
	if n, _ := j.rdb.XLen(ctx, j.cfg.Stream).Result(); n != 0 {
		t.Errorf("the journal still holds %d entries", n)
	}
	if got := testutil.ToFloat64(m.Redrives.WithLabelValues("dead")); got != 1 {
		t.Errorf("redrives{dead} = %v", got)
	}

	// Replayed once the CDN is back: purged and gone from the dead letters.
	p.set("cloudflare", nil)
	rec := &recorder{}
	out, err := Replay(ctx, j, through(p, rec), true, "")
	if err != nil || len(out) != 1 || out[0].Status != "purged" || out[0].ID != d.ID || out[0].EventID != "msg_dead" || out[0].Error != "" {
		t.Fatalf("replay: %+v %v", out, err)
	}
	if dead, _ := j.ListDead(ctx, ""); len(dead) != 0 {
		t.Errorf("dead letters after replay: %+v", dead)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0].Source != SourceRedrive {
		t.Errorf("replay audit %+v", recs)
	}
}

func TestRefusedEntriesDieAtOnce(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	if _, err := j.Write(ctx, sampleEntry("msg_403")); err != nil {
		t.Fatal(err)
	}
	p := &scripted{}
	p.set("cloudflare", &chain.BackendResult{Error: "HTTP 403: code 10000", ErrorCodes: []int{10000}})
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "a-1"})
	eventually(t, "the refused entry to die", func() bool {
		d, _ := j.ListDead(ctx, "")
		return len(d) == 1
	})
	if d, _ := j.ListDead(ctx, ""); d[0].Reason != "refused for good by a backend" || p.callCount() != 1 {
		t.Errorf("dead letter %+v after %d calls", d[0], p.callCount())
	}
}

func TestReplayByIDLeavesFailuresInPlace(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	id1, _ := j.Write(ctx, sampleEntry("msg_r1"))
	id2, _ := j.Write(ctx, sampleEntry("msg_r2"))
	p := &scripted{}
	p.set("cloudflare", retryable500)
	out, err := Replay(ctx, j, through(p, nil), false, "")
	if err != nil || len(out) != 2 || out[0].ID != id1 || out[1].ID != id2 || out[0].Status != "failed" || !strings.Contains(out[0].Error, "HTTP 500") {
		t.Fatalf("failed replay %+v %v", out, err)
	}
	p.set("cloudflare", nil)
	out, err = Replay(ctx, j, through(p, nil), false, id2)
	if err != nil || len(out) != 1 || out[0].ID != id2 || out[0].Status != "purged" {
		t.Fatalf("replay of %s: %+v %v", id2, out, err)
	}
	page, _ := j.List(ctx, "", 10)
	if list := page.Items; len(list) != 1 || list[0].ID != id1 {
		t.Errorf("left %+v, want only %s", page.Items, id1)
	}
}

func TestStopCancelsAttemptsInFlightAndKeepsTheirEntries(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	if _, err := j.Write(ctx, sampleEntry("msg_hang")); err != nil {
		t.Fatal(err)
	}
	p := &scripted{hang: true}
	stop := running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "a-1"})
	eventually(t, "the attempt to start", func() bool { return p.callCount() == 1 })
	start := time.Now()
	stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s", d)
	}
	if page, _ := j.List(ctx, "", 10); len(page.Items) != 1 || page.Items[0].Consumer != "a-1" {
		t.Errorf("the entry must stay in the journal for another instance: %+v", page.Items)
	}
}

func TestRedriverRecreatesALostGroup(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	// Redis restarted empty: no stream, no group; then a new entry.
	if err := redistest.Client(t).Del(ctx, j.cfg.Stream).Err(); err != nil {
		t.Fatal(err)
	}
	p := &scripted{}
	running(t, RedriverConfig{Journal: j, Pipeline: through(p, nil), Consumer: "a-1"})
	time.Sleep(100 * time.Millisecond)
	if _, err := j.Write(ctx, sampleEntry("msg_after_restart")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new entry to be re-driven", func() bool { return p.callCount() == 1 })
}
