package pipeline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/dedupe"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// onePlan plans one URL for every page but "unknown", "broken" and
// "empty".
type onePlan struct{}

func (onePlan) Plan(_ context.Context, ev event.Event) (plan.Plan, error) {
	switch ev.PageID {
	case "unknown":
		return plan.Plan{}, plan.ErrUnknownPage
	case "registry-down":
		return plan.Plan{}, plan.ErrRegistryUnavailable
	case "broken":
		return plan.Plan{}, errors.New("boom")
	case "empty":
		return plan.Plan{Page: ev.PageID}, nil
	}
	return plan.Plan{Page: ev.PageID, URLs: []string{"https://" + ev.PageID + ".test/"}, Tags: []string{}, Keys: []string{}}, nil
}

// backends answers every run with result (default: every backend ok) and
// counts the runs.
type backends struct {
	mu     sync.Mutex
	result chain.BackendResult
	runs   int
	on     [][]string
}

func (b *backends) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *chain.Answer) {
	if dryRun {
		*a = chain.Answer{ID: id, Plan: *p, Status: chain.StatusDryRun}
		return
	}
	b.RunOn(ctx, nil, id, p, a)
}

func (b *backends) RunOn(ctx context.Context, names []string, id string, p *plan.Plan, a *chain.Answer) {
	*a = b.runOn(ctx, names, id, *p)
}

func (b *backends) runOn(_ context.Context, names []string, id string, p plan.Plan) chain.Answer {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.runs++
	b.on = append(b.on, names)
	r := b.result
	if r.Backend == "" {
		r = chain.BackendResult{Backend: "cloudflare", Status: chain.BackendOK, Items: len(p.URLs)}
	}
	status := chain.StatusPurged
	if r.Status == chain.BackendFailed {
		status = chain.StatusFailed
	}
	return chain.Answer{ID: id, Plan: p, Status: status, Results: []chain.BackendResult{r}}
}

// journal journals as told.
type journal struct {
	ok  bool
	err error
	n   int
}

func (j *journal) Journal(context.Context, string, *chain.Answer) (string, bool, error) {
	j.n++
	return "1-0", j.ok, j.err
}

type records struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (r *records) Record(rec audit.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func hook(id, page string) *Request {
	return &Request{Event: event.Event{ID: id, Source: event.SourceHook, Type: event.IncidentUpdated, PageID: page}}
}

func TestRefusalsPurgeNothing(t *testing.T) {
	for page, want := range map[string]Outcome{
		"unknown":       {HTTPStatus: http.StatusUnprocessableEntity, Refusal: plan.ErrUnknownPage.Error()},
		"registry-down": {HTTPStatus: http.StatusServiceUnavailable, RetryAfter: "5", Refusal: "page registry unavailable (Redis is failing); retry"},
		"broken":        {HTTPStatus: http.StatusInternalServerError, Refusal: "could not plan the purge"},
		"empty":         {HTTPStatus: http.StatusUnprocessableEntity, Refusal: "nothing to purge for this event"},
	} {
		b := &backends{}
		m := metrics.New("t", "t")
		o := New(Config{Planner: onePlan{}, Purger: b, Metrics: m}).Handle(context.Background(), hook("e1", page))
		if o.HTTPStatus != want.HTTPStatus || o.Refusal != want.Refusal || o.RetryAfter != want.RetryAfter || !o.Refused() {
			t.Errorf("page %s: %+v, want %+v", page, o, want)
		}
		if b.runs != 0 {
			t.Errorf("page %s: %d purges, want none", page, b.runs)
		}
		if got := testutil.ToFloat64(m.Events.WithLabelValues("hook", "rejected")); got != 1 {
			t.Errorf("page %s: rejected events = %v", page, got)
		}
	}
}

func TestSettle(t *testing.T) {
	failed := func(retryable, unsent bool) chain.BackendResult {
		return chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Error: "x", Retryable: retryable, Unsent: unsent}
	}
	for _, tc := range []struct {
		name       string
		result     chain.BackendResult
		journal    *journal
		code       int
		status     string
		retryAfter string
	}{
		{"purged", chain.BackendResult{}, &journal{ok: true}, 200, chain.StatusPurged, ""},
		{"journaled", failed(true, false), &journal{ok: true}, 202, chain.StatusJournaled, ""},
		{"journal down", failed(true, false), &journal{ok: true, err: errors.New("redis down")}, 503, chain.StatusFailed, "5"},
		{"refused for good", failed(false, false), &journal{ok: false}, 502, chain.StatusFailed, ""},
		{"budget spent, no journal", failed(true, true), nil, 503, chain.StatusFailed, "1"},
		{"CDN down, no journal", failed(true, false), nil, 502, chain.StatusFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Planner: onePlan{}, Purger: &backends{result: tc.result}}
			if tc.journal != nil {
				c.Journal = tc.journal
			}
			rec := &records{}
			c.Audit = rec
			o := New(c).Handle(context.Background(), hook("e1", "p1"))
			if o.HTTPStatus != tc.code || o.Answer.Status != tc.status || o.RetryAfter != tc.retryAfter || o.Refused() {
				t.Errorf("outcome %d %s Retry-After %q, want %d %s %q", o.HTTPStatus, o.Answer.Status, o.RetryAfter, tc.code, tc.status, tc.retryAfter)
			}
			if tc.code == 202 && o.Answer.JournalID != "1-0" {
				t.Errorf("journal id %q", o.Answer.JournalID)
			}
			if tc.code == 503 && tc.journal != nil && o.Answer.JournalError == "" {
				t.Error("no journal_error in the answer")
			}
			if len(rec.recs) != 1 || rec.recs[0].HTTPStatus != tc.code || rec.recs[0].Source != "hook" {
				t.Errorf("audit %+v", rec.recs)
			}
		})
	}
}

func TestRedeliveryIsADuplicateOnlyAfterAPurge(t *testing.T) {
	rdb := redistest.Client(t)
	dd := dedupe.New(rdb, redistest.Prefix(t), time.Hour)
	b := &backends{result: chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Retryable: true}}
	p := New(Config{Planner: onePlan{}, Purger: b, Dedupe: dd})
	ctx := context.Background()

	if o := p.Handle(ctx, hook("e1", "p1")); o.HTTPStatus != http.StatusBadGateway {
		t.Fatalf("failed purge: %d", o.HTTPStatus)
	}
	b.result = chain.BackendResult{}
	if o := p.Handle(ctx, hook("e1", "p1")); o.HTTPStatus != 200 || o.Answer.Status != chain.StatusPurged {
		t.Fatalf("the retry of a failed delivery must purge: %d %s", o.HTTPStatus, o.Answer.Status)
	}
	if o := p.Handle(ctx, hook("e1", "p1")); o.HTTPStatus != 200 || o.Answer.Status != chain.StatusDuplicate {
		t.Fatalf("a redelivery after the purge: %d %s, want 200 duplicate", o.HTTPStatus, o.Answer.Status)
	}
	if b.runs != 2 {
		t.Errorf("%d purges, want 2", b.runs)
	}
	// A person's purge with the same id is carried out.
	manual := hook("e1", "p1")
	manual.Event.Source = event.SourceManual
	if o := p.Handle(ctx, manual); o.Answer.Status != chain.StatusPurged || b.runs != 3 {
		t.Errorf("manual purge: %s after %d runs", o.Answer.Status, b.runs)
	}
}

func TestDryRunPurgesNothingAndIsNotMarked(t *testing.T) {
	b := &backends{}
	p := New(Config{Planner: onePlan{}, Purger: b, DryRun: true})
	o := p.Handle(context.Background(), hook("e1", "p1"))
	if o.HTTPStatus != 200 || o.Answer.Status != chain.StatusDryRun || b.runs != 0 {
		t.Errorf("dry run: %d %s, %d purges", o.HTTPStatus, o.Answer.Status, b.runs)
	}
}

func TestRunPurgesAReadyPlanOnTheNamedBackends(t *testing.T) {
	b, rec := &backends{}, &records{}
	p := New(Config{Purger: b, Audit: rec})
	pl := plan.Plan{Page: "p1", URLs: []string{"https://p1.test/"}}
	a := p.Run(context.Background(), "redrive", "e1", pl, []string{"cloudflare"})
	if a.Status != chain.StatusPurged || len(b.on) != 1 || len(b.on[0]) != 1 || b.on[0][0] != "cloudflare" {
		t.Fatalf("run: %s on %v", a.Status, b.on)
	}
	if len(rec.recs) != 1 || rec.recs[0].Source != "redrive" || rec.recs[0].ID != "e1" {
		t.Errorf("audit %+v", rec.recs)
	}
}

func TestShutdownCutoffCutsThePurge(t *testing.T) {
	cutoff, cut := context.WithCancel(context.Background())
	cut()
	p := New(Config{Planner: onePlan{}, Purger: ctxBackends{}})
	o := p.Handle(cutoff, hook("e1", "p1"))
	if o.Answer.Status != chain.StatusFailed {
		t.Errorf("a purge after the cut-off: %s", o.Answer.Status)
	}
	// What the cut-off left unfinished is still journaled: the journal's
	// context has not ended with it.
	p = New(Config{Planner: onePlan{}, Purger: ctxBackends{}, Journal: liveJournal{}, Deadline: 10 * time.Second})
	if o := p.Handle(cutoff, hook("e2", "p1")); o.HTTPStatus != 202 {
		t.Errorf("a purge cut short: HTTP %d (%s, %s), want 202", o.HTTPStatus, o.Answer.Status, o.Answer.JournalError)
	}
}

// liveJournal journals when its context is live.
type liveJournal struct{}

func (liveJournal) Journal(ctx context.Context, _ string, _ *chain.Answer) (string, bool, error) {
	return "j1", true, ctx.Err()
}

// ctxBackends hang until the purge's context is done (or a minute), then
// fail.
type ctxBackends struct{}

func (c ctxBackends) Run(ctx context.Context, id string, p *plan.Plan, _ bool, a *chain.Answer) {
	c.RunOn(ctx, nil, id, p, a)
}

func (c ctxBackends) RunOn(ctx context.Context, _ []string, id string, p *plan.Plan, a *chain.Answer) {
	*a = c.runOn(ctx, id, *p)
}

func (ctxBackends) runOn(ctx context.Context, id string, p plan.Plan) chain.Answer {
	select {
	case <-ctx.Done():
		return chain.Answer{ID: id, Plan: p, Status: chain.StatusFailed,
			Results: []chain.BackendResult{{Backend: "cloudflare", Status: chain.BackendFailed, Error: ctx.Err().Error(), Retryable: true}}}
	case <-time.After(time.Minute):
		return chain.Answer{ID: id, Plan: p, Status: chain.StatusPurged}
	}
}

// incompletePlan plans like onePlan, but as the planner does with the
// registry down and a default rule: incomplete, with a warning.
type incompletePlan struct{}

func (incompletePlan) Plan(ctx context.Context, ev event.Event) (plan.Plan, error) {
	p, err := onePlan{}.Plan(ctx, ev)
	p.Warnings, p.Incomplete = []string{"page registry unavailable: hosts from the default rule only"}, true
	return p, err
}

func TestIncompletePlanIsPurgedButNever2xxNorMarked(t *testing.T) {
	rdb := redistest.Client(t)
	dd := dedupe.New(rdb, redistest.Prefix(t), time.Hour)
	for _, tc := range []struct {
		name   string
		result chain.BackendResult
	}{
		{"purged", chain.BackendResult{}},
		{"cdn failed transiently", chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Retryable: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, j := &backends{result: tc.result}, &journal{ok: true}
			p := New(Config{Planner: incompletePlan{}, Purger: b, Dedupe: dd, Journal: j})
			id := "inc-" + tc.name
			o := p.Handle(context.Background(), hook(id, "p1"))
			if o.HTTPStatus != http.StatusServiceUnavailable || o.RetryAfter == "" || o.Answer.Status == chain.StatusPurged {
				t.Errorf("incomplete plan: %d %s Retry-After %q", o.HTTPStatus, o.Answer.Status, o.RetryAfter)
			}
			if b.runs != 1 || j.n != 0 {
				t.Errorf("%d purges, %d journal writes; want what is known purged, nothing journaled", b.runs, j.n)
			}
			if seen, _ := dd.Seen(context.Background(), id); seen {
				t.Error("an incomplete plan's event was marked purged: its retry would be a duplicate")
			}
		})
	}
}

// A dry run shows what would be purged; with Redis down its plan may miss
// some of the page, and the contract holds for it too: never 2xx.
func TestDryRunOfAnIncompletePlanIsNot2xx(t *testing.T) {
	b := &backends{}
	p := New(Config{Planner: incompletePlan{}, Purger: b, DryRun: true})
	o := p.Handle(context.Background(), hook("dry-inc", "p1"))
	if o.HTTPStatus != http.StatusServiceUnavailable || o.RetryAfter == "" || o.Answer.Status != chain.StatusDryRun || !o.Answer.Plan.Incomplete {
		t.Errorf("dry run of an incomplete plan: %d %s incomplete=%v Retry-After %q", o.HTTPStatus, o.Answer.Status, o.Answer.Plan.Incomplete, o.RetryAfter)
	}
	if b.runs != 0 {
		t.Errorf("a dry run purged %d times", b.runs)
	}
}

// failingChain is backends whose Redis step fails: Run answers the CDNs skipped,
// RunOn purges what it is asked.
type failingChain struct {
	mu   sync.Mutex
	runs [][]string
}

func (c *failingChain) Run(ctx context.Context, id string, p *plan.Plan, dryRun bool, a *chain.Answer) {
	*a = c.run(ctx, id, *p, dryRun)
}

func (c *failingChain) run(_ context.Context, id string, p plan.Plan, _ bool) chain.Answer {
	c.mu.Lock()
	c.runs = append(c.runs, []string{"redis", "varnish", "cloudflare"})
	c.mu.Unlock()
	return chain.Answer{ID: id, Plan: p, Status: chain.StatusFailed, Results: []chain.BackendResult{
		{Backend: "varnish", Status: chain.BackendSkipped, Retryable: true},
		{Backend: "cloudflare", Status: chain.BackendSkipped, Retryable: true},
		{Backend: "redis", Status: chain.BackendFailed, Retryable: true, Error: "connection refused"},
	}}
}

func (c *failingChain) RunOn(ctx context.Context, names []string, id string, p *plan.Plan, a *chain.Answer) {
	*a = c.runOn(ctx, names, id, *p)
}

func (c *failingChain) runOn(_ context.Context, names []string, id string, p plan.Plan) chain.Answer {
	c.mu.Lock()
	c.runs = append(c.runs, names)
	c.mu.Unlock()
	a := chain.Answer{ID: id, Plan: p, Status: chain.StatusPurged}
	for _, n := range names {
		a.Results = append(a.Results, chain.BackendResult{Backend: n, Status: chain.BackendOK, Items: 1})
	}
	return a
}

func TestRedisDownTheCDNsArePurgedAnywayAndTheAnswerIsNot2xx(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal Journaler
		code    int
	}{
		{"journal unreachable", &journal{ok: true, err: errors.New("dial tcp: connection refused")}, http.StatusServiceUnavailable},
		{"no journal", nil, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &failingChain{}
			p := New(Config{Planner: onePlan{}, Purger: c, Journal: tc.journal, KeysBackend: "redis"})
			o := p.Handle(context.Background(), hook("e1", "p1"))
			if o.HTTPStatus != tc.code {
				t.Errorf("status %d, want %d", o.HTTPStatus, tc.code)
			}
			if len(c.runs) != 2 || len(c.runs[1]) != 2 || c.runs[1][0] != "varnish" || c.runs[1][1] != "cloudflare" {
				t.Fatalf("runs %q: want the skipped CDNs purged, inner first", c.runs)
			}
			if o.Answer.Status != chain.StatusPartial || o.Answer.Results[0].Status != chain.BackendOK || o.Answer.Results[1].Status != chain.BackendOK {
				t.Errorf("answer %s %+v", o.Answer.Status, o.Answer.Results)
			}
		})
	}
	// With the journal answering, the chain is journaled instead, in order.
	c := &failingChain{}
	o := New(Config{Planner: onePlan{}, Purger: c, Journal: &journal{ok: true}, KeysBackend: "redis"}).Handle(context.Background(), hook("e1", "p1"))
	if o.HTTPStatus != http.StatusAccepted || len(c.runs) != 1 {
		t.Errorf("journal up: %d after %d runs, want 202 and no CDN purge out of order", o.HTTPStatus, len(c.runs))
	}
}

func TestOneDeadlineCoversTheWholeRequest(t *testing.T) {
	j := &journal{ok: true}
	p := New(Config{Planner: onePlan{}, Purger: ctxBackends{}, Journal: j, Deadline: 200 * time.Millisecond})
	done := make(chan *Outcome, 1)
	go func() { done <- p.Handle(context.Background(), hook("e1", "p1")) }()
	select {
	case o := <-done:
		// The purge was cut at the deadline less the settle reserve, and
		// the unfinished part still journaled within it.
		if o.HTTPStatus != http.StatusAccepted || j.n != 1 {
			t.Errorf("%d with %d journal writes", o.HTTPStatus, j.n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request outlived its deadline by far")
	}
}

// A refusal for the registry being down says, in its log line, that Redis
// is the cause, and carries the planning error.
func TestRegistryDownRefusalLogNamesRedis(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	New(Config{Planner: onePlan{}, Purger: &backends{}, Log: log}).Handle(context.Background(), hook("e1", "registry-down"))
	want := `"msg":"request rejected","request_id":"","source":"hook","http_status":503,"reason":"page registry unavailable (Redis is failing); retry","err":"page registry unavailable"`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log:\n%s\nwant a line holding %s", buf.String(), want)
	}
}
