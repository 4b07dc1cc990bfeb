package queue

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/internal/batch"
	"github.com/edgepurge/edgepurge/purge"
)

// Escalation says when a request is purged by its cover (purge.Cover: a
// tag and/or the page's hostnames, from the tag/host budget) instead of
// its URLs (from the URL budget).
//
// The rule: a request with a cover escalates when the URLs waiting for the
// URL budget, its own included, would take longer than After to go out at
// URLRate, and the covers waiting for the tag/host budget would go out
// sooner (their calls, MaxItemsPerCall items each, at CoverCallRate). It is
// checked when the request arrives and again every checkEvery while its
// URLs wait; on escalation its URLs leave the URL queue (unless another
// request waits for them too) and its cover joins the tag or host queue.
// In a storm both budgets are then spent near their limits: the URL one
// on the pages that came first, the tag/host one on the rest, 100 pages
// to a call. The backlog is this instance's; the budgets themselves are
// shared through Redis, so other instances' load shows as a slower drain.
type Escalation struct {
	// After is the URL queue's projected wait past which a request
	// escalates.
	After time.Duration
	// URLRate is the URL budget, URLs per second.
	URLRate float64
	// CoverCallRate is the tag/host budget, calls per second.
	CoverCallRate float64
}

// checkEvery is how often a waiting request checks the rule again.
const checkEvery = 200 * time.Millisecond

// loadEvery is how long the backlog is reused before it is counted again.
const loadEvery = 50 * time.Millisecond

// load is the queues' backlog, counted at most every loadEvery: a storm's
// thousands of waiting requests check the rule, and counting walks every
// zone's queues.
type load struct {
	mu        sync.Mutex
	at        time.Time
	urls      int // URLs waiting for the URL budget, every zone
	coverCall int // calls the waiting tags and hosts make
}

// escalable reports whether req may be purged by its cover.
func (p *Purger) escalable(req *purge.Request) bool {
	c := req.Cover
	return p.cfg.Escalation != nil && c != nil && len(req.URLs) > 0 && (len(c.Tags) > 0 || len(c.Hosts) > 0)
}

// backlog counts what waits in the queues, or reuses the last count.
func (p *Purger) backlog() (urls, coverCalls int) {
	now := p.now()
	p.load.mu.Lock()
	defer p.load.mu.Unlock()
	if now.Sub(p.load.at) < loadEvery {
		return p.load.urls, p.load.coverCall
	}
	urls, coverCalls = 0, 0
	p.mu.Lock()
	queues := make(map[queueKey]*batch.Queue, len(p.queues))
	for k, zq := range p.queues {
		queues[k] = zq.q
	}
	p.mu.Unlock()
	for k, q := range queues {
		switch n := q.Pending(); k.kind {
		case kindURLs:
			urls += n
		case kindTags, kindHosts:
			coverCalls += (n + p.cfg.MaxItemsPerCall - 1) / p.cfg.MaxItemsPerCall
		}
	}
	p.load.at, p.load.urls, p.load.coverCall = now, urls, coverCalls
	return urls, coverCalls
}

// shouldEscalate applies the rule (see Escalation) with extra URLs about
// to join the URL queue; why says what it found.
func (p *Purger) shouldEscalate(extra int) (ok bool, why string) {
	e := p.cfg.Escalation
	urls, coverCalls := p.backlog()
	urlWait := float64(urls+extra) / e.URLRate
	if urlWait <= e.After.Seconds() {
		return false, ""
	}
	coverWait := math.Inf(1)
	if e.CoverCallRate > 0 {
		coverWait = float64(coverCalls+1) / e.CoverCallRate
	}
	if coverWait >= urlWait {
		return false, ""
	}
	return true, fmt.Sprintf("the URL queue would take %.1fs (over %s), the page's cover %.1fs", urlWait, e.After, coverWait)
}

// coverFill keeps a cover queue's calls full while pages escalate. A
// tag/host call costs one token of the call budget whatever it carries, and
// that budget is the scarce one in a storm (Pro: 4 calls/s after the
// headroom, 100 covers a call, against 1,350 URLs/s, 22 URLs a page): a
// token spent on a call of 3 covers is 97 pages the burst no longer
// purges. When a storm starts, pages escalate a few at a time, and calls
// sent as they come would spend the bucket's whole burst on a few covers
// each. So while covers keep coming (a
// request escalated within the last checkEvery, the interval at which
// waiting requests check the rule), a call of fewer than MaxItemsPerCall
// items waits for them, at most After; once none has come for checkEvery,
// calls go out as they are. One per cover queue (tags,
// hosts); the queue's pump asks it before each budget take, one at a time.
type coverFill struct {
	p    *Purger
	full int
	mu   sync.Mutex
	// since is when a short call was first held; zero when none is.
	since time.Time
}

// fillPoll is how often a held short call looks again.
const fillPoll = 10 * time.Millisecond

// hold reports whether a call of n items should wait for more.
func (f *coverFill) hold(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.p.now()
	if n >= f.full || now.Sub(time.Unix(0, f.p.escalatedAt.Load())) >= checkEvery {
		f.since = time.Time{}
		return false
	}
	if f.since.IsZero() {
		f.since = now
	}
	if now.Sub(f.since) >= f.p.cfg.Escalation.After {
		f.since = time.Time{}
		return false
	}
	return true
}

// doURLs purges a request's URLs, or its cover instead when the rule says
// so, at once or while the URLs wait. Its outcome counts the URLs done
// when the cover went out; why is the escalation's reason, or "".
func (p *Purger) doURLs(ctx context.Context, req *purge.Request, urls []string) (batch.Tally, string) {
	if ok, why := p.shouldEscalate(len(urls)); ok {
		return p.doCover(ctx, req, len(urls)), why
	}
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan batch.Tally, 1)
	zone, soft := req.Zone, req.Soft // not req: it would escape with the goroutine
	go func() { done <- p.queue(zone, kindURLs, soft).Do(uctx, urls) }()
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case o := <-done:
			return o, ""
		case <-tick.C:
			ok, why := p.shouldEscalate(0)
			if !ok {
				continue
			}
			cancel()
			if o := <-done; o.Err == nil {
				return o, "" // went out meanwhile
			}
			return p.doCover(ctx, req, len(urls)), why
		}
	}
}

// doCover purges req's cover, its tags and hosts in their queues, and
// counts the urls URLs done when all of it went out.
func (p *Purger) doCover(ctx context.Context, req *purge.Request, urls int) batch.Tally {
	p.escalatedAt.Store(p.now().UnixNano())
	if p.cfg.Observer != nil {
		p.cfg.Observer.Escalated(urls)
	}
	c, zone, soft := req.Cover, req.Zone, req.Soft // not req: it would escape with the goroutines
	var tags, hosts batch.Tally
	var wg sync.WaitGroup
	if len(c.Tags) > 0 {
		wg.Go(func() { tags = p.queue(zone, kindTags, soft).Do(ctx, c.Tags) })
	}
	if len(c.Hosts) > 0 {
		wg.Go(func() { hosts = p.queue(zone, kindHosts, soft).Do(ctx, c.Hosts) })
	}
	wg.Wait()
	out := batch.Tally{Calls: tags.Calls + hosts.Calls, Done: urls, SentAt: tags.SentAt}
	if hosts.SentAt.After(out.SentAt) {
		out.SentAt = hosts.SentAt
	}
	for _, o := range []batch.Tally{tags, hosts} {
		if o.Err != nil {
			out.Err, out.Done = o.Err, 0
			break
		}
	}
	return out
}
