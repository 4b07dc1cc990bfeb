// Package scale proves that edgepurge scales out: three real `edgepurge
// serve` processes share one Redis — a Cluster of 3 primaries and 3
// replicas, or a primary and a replica behind 3 sentinels — and one
// Cloudflare account (the stand-in with Pro's buckets), under one load
// generator spreading events over them. The shared rate budget, the
// duplicate check, the registry and the journal are checked across
// instances, then an instance is SIGKILLed mid-storm and a Redis primary is
// killed mid-load.
package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/journal"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// TestMain builds the real binary once.
func TestMain(m *testing.M) { proc.Main(m) }

func TestScaleCluster(t *testing.T) {
	c := redistest.NewCluster(t, redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
	runScale(t, topology{
		mode: "cluster", url: c.URL(), rdb: c.Client(),
		killPrimary: func(ctx context.Context, key string) (string, func(context.Context) (string, error), error) {
			slot, err := c.Slot(ctx, key)
			if err != nil {
				return "", nil, err
			}
			primary, err := c.MasterOf(ctx, slot, "")
			if err != nil {
				return "", nil, err
			}
			c.Kill(primary)
			return primary, func(ctx context.Context) (string, error) { return c.WaitFailover(ctx, slot, primary) }, nil
		},
	})
}

func TestScaleSentinel(t *testing.T) {
	s := redistest.NewSentinel(t, redistest.SentinelOptions{})
	t.Logf("sentinels: %s", s.Binary)
	runScale(t, topology{
		mode: "sentinel", url: s.URL(), rdb: s.Client(),
		killPrimary: func(ctx context.Context, _ string) (string, func(context.Context) (string, error), error) {
			primary, err := s.Primary(ctx)
			if err != nil {
				return "", nil, err
			}
			s.Kill(primary)
			return primary, func(ctx context.Context) (string, error) { return s.WaitFailover(ctx, primary) }, nil
		},
	})
}

// runScale runs every check on one topology, in an order that leaves the
// instance kill for last.
func runScale(t *testing.T, topo topology) {
	e := newScaleEnv(t, topo)
	insts := []*instance{e.serve("a"), e.serve("b"), e.serve("c")}
	ok := t.Run("SharedBudget", func(t *testing.T) { e.sharedBudget(t, insts) }) &&
		t.Run("RedeliveryToAnotherInstance", func(t *testing.T) { e.redelivery(t, insts) }) &&
		t.Run("RegistryChangeSeenByAll", func(t *testing.T) { e.registryChange(t, insts) }) &&
		t.Run("PagesAPIWrittenOnOnePurgedByAll", func(t *testing.T) { e.pagesAPI(t, insts) }) &&
		t.Run("PrimaryFailover", func(t *testing.T) { e.failover(t, insts) }) &&
		t.Run("InstanceKilledJournalTakenOver", func(t *testing.T) { e.instanceKilled(t, insts) }) &&
		t.Run("CommandsOnTheSharedRedis", func(t *testing.T) { e.commands(t, insts[0]) }) &&
		t.Run("DeadLettersAndReplay", func(t *testing.T) { e.deadLetters(t) })
	if ok {
		e.noCrossSlot(t)
	}
}

// sharedBudget: a storm of 60 events carrying 111 URLs each arrives at
// once, spread over three instances: 6,660 URLs, more than four times the
// account's bucket of 1,500. Each instance alone could grant its whole
// burst; the stand-in never answers 429 because the three share one budget
// in Redis.
func (e *scaleEnv) sharedBudget(t *testing.T, insts []*instance) {
	e.t = t
	const n, extra = 60, 100
	l := e.startLoad(insts, loadOptions{prefix: "budget", n: n, workers: n, extraURLs: extra})
	events := l.Wait()
	c := e.invariant(events, 30*time.Second, false)
	t.Logf("%s", c)
	first, last := events[0].At, events[0].At
	for _, s := range events {
		first, last = minTime(first, s.At), maxTime(last, s.At)
	}
	asked := n * (11 + extra)
	calls := e.stub.PurgeCalls()
	t.Logf("%d URLs asked for within %s; the stand-in got %d purge calls over %s, %d answered 429",
		asked, last.Sub(first).Round(time.Millisecond), len(calls), calls[len(calls)-1].At.Sub(calls[0].At).Round(time.Millisecond), e.stub.Throttled())
	if got := e.stub.Throttled(); got != 0 {
		t.Errorf("the stand-in answered %d calls 429: the instances exceeded the account's budget", got)
	}
	// Within 2 s the account allows at most 1,500 + 2 × 1,500 = 4,500 URLs.
	if last.Sub(first) > 2*time.Second {
		t.Errorf("the storm took %s to arrive, not at once: it may not exceed the budget", last.Sub(first))
	}
	for _, in := range insts {
		if calls := metric(t, in, "edgepurge_cdn_calls_total"); calls == 0 {
			t.Errorf("instance %s sent no purge call: the load did not reach all three", in.name)
		}
		if th := metric(t, in, "edgepurge_cdn_throttled_total"); th != 0 {
			t.Errorf("instance %s counted %v 429s", in.name, th)
		}
	}
	e.waitJournalEmpty(t)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// redelivery: a signed event purged by one instance, delivered again (same
// webhook-id) to each of the other two, is answered duplicate and purges
// nothing.
func (e *scaleEnv) redelivery(t *testing.T, insts []*instance) {
	e.t = t
	ctx := context.Background()
	id := "msg_redelivered_" + e.topo.mode
	body := []byte(`{"type":"incident.updated","page_id":"dup1","incident_id":"inc1"}`)
	key := "statuspage:dup1:summary"
	if err := e.topo.rdb.Set(ctx, key, "cached", 0).Err(); err != nil {
		t.Fatal(err)
	}
	first := e.hook(insts[0], id, body)
	if first.Err != nil || first.Code != 200 || first.Answer.Status != chain.StatusPurged {
		t.Fatalf("first delivery to %s: %d %v %s", insts[0].name, first.Code, first.Err, first.Raw)
	}
	callsBefore := len(e.stub.PurgeCalls())
	// The key is back (the page was rendered again): a redelivery must not
	// unlink it.
	if err := e.topo.rdb.Set(ctx, key, "rendered again", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, in := range insts[1:] {
		s := e.hook(in, id, body)
		if s.Err != nil || s.Code != 200 || s.Answer.Status != chain.StatusDuplicate {
			t.Errorf("redelivery to %s: %d %v %s; want 200 duplicate", in.name, s.Code, s.Err, s.Raw)
		}
	}
	if n := len(e.stub.PurgeCalls()); n != callsBefore {
		t.Errorf("the redeliveries made %d purge calls at the stand-in; want none", n-callsBefore)
	}
	if v, err := e.topo.rdb.Get(ctx, key).Result(); err != nil || v != "rendered again" {
		t.Errorf("key %s after the redeliveries = %q, %v; want it untouched", key, v, err)
	}
}

// registryChange: a page's hosts written once in the registry are seen by
// every instance within registry.cache_ttl, though each had cached the
// old ones.
func (e *scaleEnv) registryChange(t *testing.T, insts []*instance) {
	e.t = t
	ctx := context.Background()
	page := "reg1"
	if err := e.topo.rdb.HSet(ctx, registryKey+page, "hosts", "old.example.com").Err(); err != nil {
		t.Fatal(err)
	}
	hostsOf := func(s sent) string {
		if s.Err != nil || s.Code != 200 {
			t.Fatalf("purge of %s on %s: %d %v %s", page, s.To, s.Code, s.Err, s.Raw)
		}
		return s.Answer.Plan.URLs[0]
	}
	for _, in := range insts {
		if u := hostsOf(e.purge(in, page)); !strings.HasPrefix(u, "https://old.example.com/") {
			t.Fatalf("%s plans %s; want old.example.com", in.name, u)
		}
	}
	if err := e.topo.rdb.HSet(ctx, registryKey+page, "hosts", "new.example.com").Err(); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	time.Sleep(cacheTTL + 20*time.Millisecond)
	for _, in := range insts {
		if u := hostsOf(e.purge(in, page)); !strings.HasPrefix(u, "https://new.example.com/") {
			t.Errorf("%s still plans %s %s after the change; want new.example.com", in.name, u, time.Since(changed).Round(time.Millisecond))
		}
	}
}

// failover: the primary of the busiest key (the shared URL budget's GCRA
// bucket, taken for every purge) is SIGKILLed mid-load; a replica is
// promoted. Every 2xx is purged, every other answer is retryable, the redis
// check is red only around the outage and green after it, and every
// instance carries on without a restart.
func (e *scaleEnv) failover(t *testing.T, insts []*instance) {
	e.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e.stub.Reset()
	w := watchRedis(insts)
	l := e.startLoad(insts, loadOptions{prefix: "fo", n: 400, workers: 6, pace: 60 * time.Millisecond})
	l.WaitSent(60)
	killedAt := time.Now()
	primary, waitPromoted, err := e.topo.killPrimary(ctx, urlBucketKey)
	if err != nil {
		t.Fatal(err)
	}
	promoted, err := waitPromoted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	promotedAt := time.Now()
	t.Logf("primary %s killed after %d events; %s promoted %s later", primary, l.Done(), promoted, promotedAt.Sub(killedAt).Round(time.Millisecond))
	events := l.Wait()
	time.Sleep(2 * time.Second) // readiness settles after the load
	w.close()

	c := e.invariant(events, 20*time.Second, false)
	t.Logf("%s", c)
	if c.Cut != 0 || c.Refused != 0 {
		t.Errorf("%d requests cut and %d refused: no instance should have gone away", c.Cut, c.Refused)
	}
	// Readiness: red only around the outage, green after it.
	slack := 3 * time.Second // a PING a second, its timeout, the slot map's reload
	for _, in := range insts {
		red := w.red(in.name)
		var rel []string
		for _, r := range red {
			rel = append(rel, fmt.Sprintf("from kill %+.1fs to promotion %+.1fs (%.1fs)", r.from.Sub(killedAt).Seconds(), r.to.Sub(promotedAt).Seconds(), r.to.Sub(r.from).Seconds()))
		}
		notReady, unanswered := w.unready(in.name)
		t.Logf("instance %s: redis check red %s; /readyz not ready in %d samples, unanswered in %d", in.name, strings.Join(rel, ", "), notReady, unanswered)
		if len(red) == 0 {
			t.Errorf("instance %s: the redis check never went red with the primary dead for %s", in.name, promotedAt.Sub(killedAt).Round(time.Millisecond))
		}
		for _, r := range red {
			if r.from.Before(killedAt) {
				t.Errorf("instance %s: redis red from %s, before the kill at %s", in.name, r.from.Format("15:04:05.000"), killedAt.Format("15:04:05.000"))
			}
			if r.to.IsZero() || r.to.After(promotedAt.Add(slack)) {
				t.Errorf("instance %s: redis red %v, past the promotion at %s + %s", in.name, r, promotedAt.Format("15:04:05.000"), slack)
			}
		}
		if notReady != 0 {
			t.Errorf("instance %s: /readyz not ready in %d samples: a shared check must not gate readiness (shared_grace 0)", in.name, notReady)
		}
	}
	// No restart: the same processes serve, and purge.
	for _, in := range insts {
		if !in.alive() {
			t.Fatalf("instance %s exited", in.name)
		}
		s := e.purge(in, "after-failover-"+in.name)
		if s.Code != 200 || s.Answer.Status != chain.StatusPurged {
			t.Errorf("instance %s after the failover: %d %s; want 200 purged", in.name, s.Code, s.Raw)
		}
	}
	e.waitJournalEmpty(t)
	e.checkAnswers(t, events)
}

// instanceKilled: with the CDN failing, the instances journal; one holding
// entries is SIGKILLed; the others take its entries over and, once the CDN
// is back, purge them. The victim is whichever of b and c first holds
// three entries: which instance reads an entry first is a race, and on a
// busy machine a slow instance may hold none for a long time. insts[0]
// survives for the checks that follow.
func (e *scaleEnv) instanceKilled(t *testing.T, insts []*instance) {
	e.t = t
	ctx := context.Background()
	e.stub.Reset()
	candidates := map[string]*instance{}
	for _, in := range insts[1:] {
		candidates[consumerOf(t, in)] = in
	}
	l := e.startLoad(insts, loadOptions{prefix: "kill", n: 240, workers: 6, pace: 50 * time.Millisecond})
	l.WaitSent(30)
	e.stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	var (
		victim   *instance
		consumer string
		held     int64
		last     map[string]int64
	)
	for deadline := time.Now().Add(45 * time.Second); victim == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 45s waiting for b or c to hold 3 journal entries; entries held by consumer: %v", last)
		}
		p, err := e.topo.rdb.XPending(ctx, journalStream, journalGroup).Result()
		if err != nil {
			continue
		}
		last = p.Consumers
		for c, in := range candidates {
			if n := p.Consumers[c]; n >= 3 {
				victim, consumer, held = in, c, n
			}
		}
	}
	var survivors []*instance
	for _, in := range insts {
		if in != victim {
			survivors = append(survivors, in)
		}
	}
	if err := victim.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	l.targets.Store(&survivors)
	t.Logf("%s (consumer %s) SIGKILLed holding %d journal entries, after %d events", victim.name, consumer, held, l.Done())
	time.Sleep(time.Second)
	e.stub.ClearFailure()
	events := l.Wait()
	c := e.invariant(events, 20*time.Second, true)
	t.Logf("%s", c)
	e.waitJournalEmpty(t)
	took := 0
	for _, in := range survivors {
		took += strings.Count(in.Logs.String(), "took over an abandoned entry")
	}
	if took == 0 {
		t.Errorf("no survivor took over an entry; the victim held %d", held)
	}
	t.Logf("the survivors took over %d abandoned entries", took)
	e.checkAnswers(t, events)
}

// commands: the CLI's paths that read or write the shared Redis directly
// (the deploy gate, the journal listings, a replay, the audit listing
// through an instance) work on the topology, without a routing error.
func (e *scaleEnv) commands(t *testing.T, in *instance) {
	e.t = t
	for _, args := range [][]string{
		{"check"},
		{"journal"},
		{"journal", "--dead"},
		{"replay"},
		{"log", "--server", in.Base, "--limit", "50"},
		{"purge", "--direct", "--page", "cli1"},
	} {
		out, code := proc.Run(t, e.env(), args...)
		first, _, _ := strings.Cut(out, "\n")
		t.Logf("edgepurge %s: exit %d: %s", strings.Join(args, " "), code, first)
		if code != 0 {
			t.Errorf("edgepurge %s: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
		if m := clusterErrors.FindString(out); m != "" {
			t.Errorf("edgepurge %s printed a %s error:\n%s", strings.Join(args, " "), m, out)
		}
	}
}

// deadLetters: entries that keep failing past journal.max_age move to the
// dead-letter stream (written, then removed from the journal: two streams
// in two slots on a Cluster), are listed by `edgepurge journal --dead`,
// and purged and removed by `edgepurge replay --dead`. An instance of its
// own, on a journal of its own with a max_age of 1 s, so that the others'
// entries are not buried.
func (e *scaleEnv) deadLetters(t *testing.T) {
	e.t = t
	ctx := context.Background()
	const stream = "edgepurge:dl:journal"
	extra := append(e.variant("  claim_idle: 1s\n", "  claim_idle: 1s\n  max_age: 1s\n"), "EDGEPURGE_JOURNAL_STREAM="+stream)
	d := e.serve("d", extra...)
	env := e.env(extra...)
	e.stub.SetFailure(cfstub.Failure{Status: 500, Codes: []int{10000}, Message: "Internal server error"})
	events := make([]sent, 5)
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() { events[i] = e.purge(d, fmt.Sprintf("dl%d", i)) })
	}
	wg.Wait()
	for _, s := range events {
		if s.Code != 202 {
			t.Fatalf("purge of %s with the CDN failing: %d %s; want 202", s.Page, s.Code, s.Raw)
		}
	}
	start := time.Now()
	waitUntil(t, "5 dead letters", 20*time.Second, func() bool {
		n, err := e.topo.rdb.XLen(ctx, stream+":dead").Result()
		m, err2 := e.topo.rdb.XLen(ctx, stream).Result()
		return err == nil && err2 == nil && n == 5 && m == 0
	})
	t.Logf("5 entries dead %s after the last was journaled", time.Since(start).Round(time.Millisecond))
	out, code := stdout(t, env, "journal", "--dead", "--json")
	var dead []journal.Dead
	if err := json.Unmarshal([]byte(out), &dead); code != 0 || err != nil || len(dead) != 5 {
		t.Errorf("edgepurge journal --dead --json: exit %d, %v, %d dead letters; want 5:\n%s", code, err, len(dead), out)
	}
	e.stub.ClearFailure()
	if out, code := proc.Run(t, env, "replay", "--dead"); code != 0 || clusterErrors.MatchString(out) {
		t.Errorf("edgepurge replay --dead: exit %d:\n%s", code, out)
	}
	if n, err := e.topo.rdb.XLen(ctx, stream+":dead").Result(); err != nil || n != 0 {
		t.Errorf("%d dead letters left after the replay (%v); want 0", n, err)
	}
	for i := range events {
		events[i].Code, events[i].Answer.Status = 200, chain.StatusPurged // owed: the replay purged them
	}
	e.invariant(events, 5*time.Second, false)
}

// stdout runs the CLI and returns what it printed on stdout (its logs,
// such as the Sentinel client's, go to stderr) and its exit code.
func stdout(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(proc.Binary(), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return string(out), 0
}

// consumerOf is the journal consumer name of an instance: host-pid, as
// the app names it.
func consumerOf(t *testing.T, in *instance) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return host + "-" + strconv.Itoa(in.pid)
}

// waitJournalEmpty waits until the journal holds nothing.
func (e *scaleEnv) waitJournalEmpty(t *testing.T) {
	t.Helper()
	waitUntil(t, "the journal to empty", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := e.topo.rdb.XLen(ctx, journalStream).Result()
		return err == nil && n == 0 || err == redis.Nil
	})
}

// clusterErrors are the errors of keys that do not live together (CROSSSLOT)
// or of a client that does not follow the slot map (MOVED, ASK).
var clusterErrors = regexp.MustCompile(`CROSSSLOT|\bMOVED\b|\bASK\b`)

// checkAnswers fails on any answer that carries a cluster routing error.
func (e *scaleEnv) checkAnswers(t *testing.T, events []sent) {
	t.Helper()
	for _, s := range events {
		if m := clusterErrors.FindString(s.Raw); m != "" {
			t.Errorf("event %s answered %d with a %s error: %s", s.Page, s.Code, m, s.Raw)
		}
	}
}

// noCrossSlot fails when any instance logged a CROSSSLOT, MOVED or ASK
// error, in any path (hooks, journal, re-driver, audit, probes).
func (e *scaleEnv) noCrossSlot(t *testing.T) {
	for _, in := range e.all {
		logs := in.Logs.String()
		if dir := os.Getenv("EDGEPURGE_SCALE_LOGS"); dir != "" { // to read them after a run
			_ = os.WriteFile(filepath.Join(dir, e.topo.mode+"-"+in.name+".log"), []byte(logs), 0o644)
		}
		for l := range strings.Lines(logs) {
			if m := clusterErrors.FindString(l); m != "" {
				t.Errorf("instance %s logged a %s error: %s", in.name, m, strings.TrimSpace(l))
			}
		}
		t.Logf("instance %s: %d log lines, %d warnings or errors, no CROSSSLOT/MOVED/ASK", in.name,
			strings.Count(logs, "\n"), strings.Count(logs, `"level":"WARN"`)+strings.Count(logs, `"level":"ERROR"`))
	}
	if !slices.ContainsFunc(e.all, func(in *instance) bool { return in.Logs.String() != "" }) {
		t.Error("no instance logged anything: the check proves nothing")
	}
}
