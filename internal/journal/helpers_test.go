package journal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// scripted is a Purger whose backends fail as told; the real path is
// tested end to end in package app and by the fault tests.
type scripted struct {
	mu sync.Mutex
	// fail maps a backend to its failure; absent means it succeeds.
	fail  map[string]chain.BackendResult
	hang  bool
	calls []call
}

type call struct {
	backends []string
	id       string
	p        plan.Plan
}

func (s *scripted) set(backend string, r *chain.BackendResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail == nil {
		s.fail = map[string]chain.BackendResult{}
	}
	if r == nil {
		delete(s.fail, backend)
		return
	}
	s.fail[backend] = *r
}

// through is the pipeline over s, recording its re-drives in rec.
func through(s *scripted, rec pipeline.Recorder) *pipeline.Pipeline {
	return pipeline.New(pipeline.Config{Purger: s, Audit: rec})
}

func (s *scripted) Run(ctx context.Context, id string, p *plan.Plan, _ bool, a *chain.Answer) {
	s.RunOn(ctx, []string{"cloudflare", "redis"}, id, p, a)
}

func (s *scripted) RunOn(ctx context.Context, backends []string, id string, p *plan.Plan, a *chain.Answer) {
	*a = s.runOn(ctx, backends, id, *p)
}

func (s *scripted) runOn(ctx context.Context, backends []string, id string, p plan.Plan) chain.Answer {
	s.mu.Lock()
	s.calls = append(s.calls, call{backends, id, p})
	hang := s.hang
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := chain.Answer{ID: id, Plan: p}
	failed := 0
	for _, b := range backends {
		r, bad := s.fail[b]
		if ctx.Err() != nil {
			r, bad = chain.BackendResult{Error: ctx.Err().Error(), Retryable: true}, true
		}
		if bad {
			r.Backend, r.Status = b, chain.BackendFailed
			failed++
		} else {
			r = chain.BackendResult{Backend: b, Status: chain.BackendOK, Items: 1}
		}
		a.Results = append(a.Results, r)
	}
	switch {
	case failed == 0:
		a.Status = chain.StatusPurged
	case failed == len(backends):
		a.Status = chain.StatusFailed
	default:
		a.Status = chain.StatusPartial
	}
	return a
}

func (s *scripted) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// recorder keeps audit records.
type recorder struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (r *recorder) Record(rec audit.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *recorder) all() []audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Record(nil), r.recs...)
}

var retryable500 = &chain.BackendResult{Error: "purge 2 urls: HTTP 500", Retryable: true}

// testJournal is a journal under the test's own prefix in the shared Redis.
func testJournal(t *testing.T, edit func(*Config)) *Journal {
	t.Helper()
	prefix := redistest.Prefix(t)
	cfg := Config{Stream: prefix + "journal", Group: "g", DeadStream: prefix + "journal:dead",
		ClaimIdle: 3 * time.Second, MaxAge: time.Hour, Poll: 20 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	j := New(redistest.Client(t), cfg)
	if err := j.EnsureGroup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return j
}

// sampleEntry is an unfinished CDN part of event id.
func sampleEntry(id string) Entry {
	return Entry{EventID: id, Source: "hook", Page: "p0", Zone: "z", Backends: []string{"cloudflare"},
		URLs: []string{"https://p0.example/", "https://p0.example/history"}, Tags: []string{"page:p0"},
		FirstFailure: time.Now().UTC().Truncate(time.Millisecond), Attempts: 1, Error: "cloudflare: HTTP 500"}
}

// running starts a Redriver and stops it when the test ends.
func running(t *testing.T, cfg RedriverConfig) (stop func()) {
	t.Helper()
	r := NewRedriver(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("Redriver.Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redisArgs reads every new entry as consumer.
func redisArgs(j *Journal, consumer string) *redis.XReadGroupArgs {
	return &redis.XReadGroupArgs{Group: j.cfg.Group, Consumer: consumer, Streams: []string{j.cfg.Stream, ">"}, Count: 100, Block: -1}
}
