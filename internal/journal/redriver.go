package journal

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// RedriverConfig configures a Redriver.
type RedriverConfig struct {
	Journal *Journal
	// Pipeline re-drives the entries.
	Pipeline *pipeline.Pipeline
	// Consumer names this instance in the group (hostname-pid): unique
	// per process, so a restarted instance's old entries are claimed as
	// abandoned.
	Consumer string
	// Metrics and Log may be nil.
	Metrics *metrics.Journal
	Log     *slog.Logger
	// Concurrency bounds the re-drives in flight; default 64.
	Concurrency int
}

// Limits of one instance's share of the work.
const (
	defaultConcurrency = 64
	// maxHeld bounds the entries one instance holds; the rest wait in the
	// stream for another instance, or for room.
	maxHeld = 4096
	// readBatch is how many entries one read or claim takes.
	readBatch = 256
	// warnEvery spaces the warnings about an unreachable Redis.
	warnEvery = 10 * time.Second
	// maxBackoff caps the pause between two attempts of an entry.
	maxBackoff = 30 * time.Second
)

// Redriver re-drives the journal in the background. Run it once per
// instance.
type Redriver struct {
	cfg     RedriverConfig
	jcfg    Config
	log     *slog.Logger
	results chan result
	now     func() time.Time

	// Owned by Run's goroutine.
	held     map[string]*held
	inflight int
	lastWarn time.Time
}

// held is an entry this instance holds in its pending list.
type held struct {
	e Entry
	// attempts is how many re-drives were started, by any instance.
	attempts int
	// fresh says the entry was just delivered to this instance (read or
	// claimed), so the next attempt needs no XCLAIM to count itself.
	fresh    bool
	due      time.Time
	touched  time.Time // last time its idle time was reset
	inflight bool
}

// result is a finished attempt.
type result struct {
	id string
	a  chain.Answer
	o  outcome
}

// NewRedriver returns a Redriver; start it with Run.
func NewRedriver(cfg RedriverConfig) *Redriver {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Redriver{
		cfg: cfg, jcfg: cfg.Journal.Config(), log: cfg.Log.With("consumer", cfg.Consumer),
		results: make(chan result, cfg.Concurrency), now: time.Now, held: map[string]*held{},
	}
}

// Run re-drives until ctx ends. Then the attempts in flight are cancelled
// (their entries stay in the journal, for this or another instance) and
// Run returns once they have.
func (r *Redriver) Run(ctx context.Context) {
	attemptCtx, cancelAttempts := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tick := time.NewTicker(r.jcfg.Poll)
	defer tick.Stop()
	r.log.Info("journal re-driver started", "stream", r.jcfg.Stream, "group", r.jcfg.Group)
	for {
		select {
		case <-ctx.Done():
			cancelAttempts()
			wg.Wait()
			// Attempts that succeeded before the cancel are acknowledged.
			for len(r.results) > 0 {
				r.settle(context.Background(), <-r.results)
			}
			r.log.Info("journal re-driver stopped", "held", len(r.held))
			return
		case res := <-r.results:
			r.settle(ctx, res)
		case <-tick.C:
			r.tick(ctx, attemptCtx, &wg)
		}
	}
}

// tick takes new and abandoned entries, keeps the held ones from being
// taken, starts the attempts that are due and refreshes the metrics.
func (r *Redriver) tick(ctx, attemptCtx context.Context, wg *sync.WaitGroup) {
	if err := r.readNew(ctx); err != nil {
		r.warn("journal: read new entries", err)
		return
	}
	if err := r.claimAbandoned(ctx); err != nil {
		r.warn("journal: claim abandoned entries", err)
	}
	if err := r.renew(ctx); err != nil {
		r.warn("journal: renew held entries", err)
	}
	if err := r.startDue(ctx, attemptCtx, wg); err != nil {
		r.warn("journal: start re-drives", err)
	}
	r.observe(ctx)
}

// readNew takes entries no instance has read yet.
func (r *Redriver) readNew(ctx context.Context) error {
	room := min(maxHeld-len(r.held), readBatch)
	if room <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	streams, err := r.cfg.Journal.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.jcfg.Group, Consumer: r.cfg.Consumer, Streams: []string{r.jcfg.Stream, ">"},
		Count: int64(room), Block: -1,
	}).Result()
	if isNoGroup(err) {
		return r.cfg.Journal.EnsureGroup(ctx)
	}
	if err != nil && err != redis.Nil {
		return err
	}
	now := r.now()
	for _, s := range streams {
		for _, m := range s.Messages {
			r.adopt(m, 0, now)
		}
	}
	return nil
}

// claimAbandoned takes over entries idle for longer than ClaimIdle: their
// instance died (or lost Redis for that long).
func (r *Redriver) claimAbandoned(ctx context.Context) error {
	room := min(maxHeld-len(r.held), readBatch)
	if room <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	msgs, _, err := r.cfg.Journal.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: r.jcfg.Stream, Group: r.jcfg.Group, Consumer: r.cfg.Consumer,
		MinIdle: r.jcfg.ClaimIdle, Start: "0-0", Count: int64(room),
	}).Result()
	if err != nil || len(msgs) == 0 {
		if isNoGroup(err) {
			return nil // readNew recreates it
		}
		return err
	}
	// The attempts of the previous holders: every delivery but this claim
	// started one.
	pend, err := r.cfg.Journal.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: r.jcfg.Stream, Group: r.jcfg.Group, Consumer: r.cfg.Consumer,
		Start: msgs[0].ID, End: msgs[len(msgs)-1].ID, Count: int64(len(msgs) + len(r.held)),
	}).Result()
	deliveries := map[string]int64{}
	if err == nil {
		for _, p := range pend {
			deliveries[p.ID] = p.RetryCount
		}
	}
	now := r.now()
	for _, m := range msgs {
		if h, ok := r.held[m.ID]; ok {
			h.touched = now
			continue
		}
		r.log.Info("journal: took over an abandoned entry", "entry", m.ID)
		r.adopt(m, max(int(deliveries[m.ID])-1, 0), now)
	}
	return nil
}

// adopt holds a delivered entry, due at once.
func (r *Redriver) adopt(m redis.XMessage, attempts int, now time.Time) {
	e, err := decode(m)
	if err != nil {
		// Unreadable: kept aside, never dropped silently.
		r.log.Error("journal: unreadable entry, moving it to the dead letters", "entry", m.ID, "err", err)
		e = Entry{ID: m.ID, Error: err.Error()}
		if err := r.cfg.Journal.Bury(context.Background(), e, "unreadable entry", now); err == nil {
			r.dead()
		}
		return
	}
	r.held[m.ID] = &held{e: e, attempts: attempts, fresh: true, due: now, touched: now}
}

// renew resets the idle time of held entries that wait for their next
// attempt, so other instances do not take them over; entries found gone
// (replayed by hand) are dropped.
func (r *Redriver) renew(ctx context.Context) error {
	now := r.now()
	var ids []string
	for id, h := range r.held {
		if now.Sub(h.touched) >= r.jcfg.ClaimIdle/3 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	kept, err := r.claim(ctx, ids, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		h := r.held[id]
		if !slices.Contains(kept, id) {
			if !h.inflight {
				delete(r.held, id)
			}
			continue
		}
		h.touched = now
	}
	return nil
}

// claim XCLAIMs ids to this instance and returns those still in the
// journal. With justID the delivery count is left alone (a lease
// renewal); without, it counts one more attempt.
func (r *Redriver) claim(ctx context.Context, ids []string, justID bool) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	args := &redis.XClaimArgs{Stream: r.jcfg.Stream, Group: r.jcfg.Group, Consumer: r.cfg.Consumer, Messages: ids}
	if justID {
		return r.cfg.Journal.rdb.XClaimJustID(ctx, args).Result()
	}
	msgs, err := r.cfg.Journal.rdb.XClaim(ctx, args).Result()
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out, err
}

// startDue starts the attempts that are due, as far as the concurrency
// allows, oldest first.
func (r *Redriver) startDue(ctx, attemptCtx context.Context, wg *sync.WaitGroup) error {
	now := r.now()
	var due []*held
	for _, h := range r.held {
		if !h.inflight && !h.due.After(now) {
			due = append(due, h)
		}
	}
	slices.SortFunc(due, func(a, b *held) int { return a.e.FirstFailure.Compare(b.e.FirstFailure) })
	due = due[:min(len(due), r.cfg.Concurrency-r.inflight)]
	// An entry not fresh from a delivery is claimed again, which counts
	// the attempt in its delivery count and finds out whether it is gone.
	var again []string
	for _, h := range due {
		if !h.fresh {
			again = append(again, h.e.ID)
		}
	}
	if len(again) > 0 {
		kept, err := r.claim(ctx, again, false)
		if err != nil {
			return err
		}
		for _, id := range again {
			if !slices.Contains(kept, id) {
				delete(r.held, id)
			}
		}
	}
	for _, h := range due {
		if r.held[h.e.ID] != h {
			continue
		}
		h.fresh, h.inflight, h.touched = false, true, now
		h.attempts++
		r.inflight++
		e := h.e
		wg.Go(func() {
			a, o := redrive(attemptCtx, r.cfg.Pipeline, e)
			r.results <- result{id: e.ID, a: a, o: o}
		})
	}
	return nil
}

// settle acts on a finished attempt: acknowledge, bury or back off.
func (r *Redriver) settle(ctx context.Context, res result) {
	r.inflight--
	h, ok := r.held[res.id]
	if !ok {
		return
	}
	h.inflight = false
	now := r.now()
	attempts := h.e.Attempts + h.attempts
	log := r.log.With("entry", res.id, "event", h.e.EventID, "page", h.e.Page, "backends", h.e.Backends, "attempts", attempts)
	switch {
	case res.o == purged:
		if err := r.cfg.Journal.Done(ctx, res.id); err != nil {
			// Purged, but still in the journal: it is purged again later,
			// which is harmless.
			r.warn("journal: acknowledge a re-driven entry", err)
			h.due = now.Add(r.backoff(h.attempts))
			return
		}
		delete(r.held, res.id)
		r.count("ok")
		log.Info("journal: entry re-driven", "age", now.Sub(h.e.FirstFailure).String())
	case res.o == refused || now.Sub(h.e.FirstFailure) >= r.jcfg.MaxAge:
		reason := "still failing after journal.max_age (" + r.jcfg.MaxAge.String() + ")"
		if res.o == refused {
			reason = "refused for good by a backend"
		}
		e := h.e
		e.Attempts, e.Error = attempts, failure(res.a)
		if err := r.cfg.Journal.Bury(ctx, e, reason, now); err != nil {
			r.warn("journal: move an entry to the dead letters", err)
			h.due = now.Add(r.backoff(h.attempts))
			return
		}
		delete(r.held, res.id)
		r.count("dead")
		r.dead()
		log.Error("journal: entry moved to the dead letters", "reason", reason, "err", e.Error)
	default:
		h.e.Error = failure(res.a)
		h.due = now.Add(r.backoff(h.attempts))
		r.count("failed")
		log.Warn("journal: re-drive failed, will retry", "err", h.e.Error, "next_in", h.due.Sub(now).String())
	}
}

// backoff is the pause after the n-th failed attempt: Poll doubled each
// time up to a cap (an eighth of MaxAge, at most 30 s), with jitter, so
// the entries of one outage do not all come back at once.
func (r *Redriver) backoff(n int) time.Duration {
	limit := min(max(r.jcfg.MaxAge/8, r.jcfg.Poll), maxBackoff)
	d := r.jcfg.Poll
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	// ±20 % jitter.
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// observe refreshes the pending and oldest-age gauges.
func (r *Redriver) observe(ctx context.Context) {
	if r.cfg.Metrics == nil {
		return
	}
	s, err := r.cfg.Journal.Stats(ctx)
	if err != nil {
		return
	}
	r.cfg.Metrics.Pending.Set(float64(s.Pending))
	r.cfg.Metrics.Dead.Set(float64(s.Dead))
	age := 0.0
	if !s.Oldest.IsZero() {
		age = max(r.now().Sub(s.Oldest).Seconds(), 0)
	}
	r.cfg.Metrics.OldestAge.Set(age)
}

func (r *Redriver) count(result string) {
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.Redrives.WithLabelValues(result).Inc()
	}
}

func (r *Redriver) dead() {
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.DeadLetters.Inc()
	}
}

// warn logs a Redis failure, at most every warnEvery: a Redis outage
// would otherwise log every poll.
func (r *Redriver) warn(msg string, err error) {
	if now := r.now(); now.Sub(r.lastWarn) >= warnEvery {
		r.lastWarn = now
		r.log.Warn(msg, "err", err)
	}
}
