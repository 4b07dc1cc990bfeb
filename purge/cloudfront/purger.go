// Package cloudfront purges Amazon CloudFront through its invalidation
// API, with aws-sdk-go-v2's CloudFront client. One Purger serves every
// distribution its credentials may invalidate; purge.Request.Zone is the
// distribution of the request's URLs whose host Config.Distributions does
// not map.
//
// A request becomes invalidation paths: a URL its path (and query), a
// prefix host/dir/ the wildcard path /dir/*, a host "/*" on a
// distribution that serves that host alone, Everything "/*". CloudFront
// has no cache tags: a request with tags is refused whole, before any
// call, as is a host whose distribution serves other hosts too (an
// invalidation applies to every alternate domain of its distribution).
//
// Paths are invalidated per distribution in batches that concurrent
// requests share: one CreateInvalidation in flight per distribution, the
// paths arriving meanwhile deduplicated into the next batch, so that a
// storm's URLs, which on CloudFront are the same few paths on many hosts,
// become few invalidations. When more than CollapseAfter distinct paths
// of one directory (/incidents/a, /incidents/b, ...) were sent within
// CollapseWindow, the directory is invalidated as one wildcard path
// (/incidents/*). A batch waits (under its requests' deadline) rather
// than exceed CloudFront's invalidations in progress: MaxPathsInProgress
// individual and MaxWildcardsInProgress wildcard paths per distribution.
//
// A purge is done when its invalidations are Completed: Purge polls
// GetInvalidation (backing off from PollInterval to MaxPollInterval) until
// they are, or until ctx ends; then the error is retryable, and a re-drive
// of the same purge (the same purge.Request.Ref) polls the same
// invalidations. Each batch is recorded in Refs under the Ref of every
// request in it before it is sent, with its CallerReference: a re-drive
// after a lost answer sends the same batch with the same CallerReference,
// which CloudFront answers with the invalidation it made the first time.
package cloudfront

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// Name is the backend's name.
const Name = "cloudfront"

// Budget is the shared budget of API calls: *ratelimit.Limiter.
type Budget interface {
	Take(ctx context.Context, b ratelimit.Bucket, n int) (int, time.Duration)
	Pause(ctx context.Context, b ratelimit.Bucket, d time.Duration)
}

// Purger is the CloudFront purge.Purger. It is safe for concurrent use.
type Purger struct {
	cfg  Config
	api  *cf.Client
	refs Refs
	seq  atomic.Uint64

	// stop ends the pollers (Close): they outlive the purges that
	// started them.
	stop   context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	dists map[string]*dist
	live  map[string]*batch // CallerReference → batch not yet done
}

var _ purge.Purger = (*Purger)(nil)

// New returns a Purger for cfg. It reads the AWS credentials' sources
// (environment, shared config files) but makes no call.
func New(ctx context.Context, cfg Config) (*Purger, error) {
	cfg.SetDefaults()
	opts := []func(*awsconfig.LoadOptions) error{
		// CloudFront's API is global, signed for us-east-1.
		awsconfig.WithRegion("us-east-1"),
		// Retries are the purger's own, under each purge's deadline and
		// the shared budget: the SDK's would add attempts nobody counts.
		awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey.Value(), "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cloudfront: load AWS config: %w", err)
	}
	api := cf.NewFromConfig(awsCfg, func(o *cf.Options) {
		// Set here, not in the loaded config: that one would also apply
		// AWS_CA_BUNDLE, which needs the SDK's own client. The default
		// client is the SDK's (every call is bounded by its context).
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
		if cfg.BaseURL != "" {
			o.BaseEndpoint = aws.String(strings.TrimRight(cfg.BaseURL, "/"))
		}
	})
	refs := cfg.Refs
	if refs == nil {
		refs = newMemRefs(cfg.RefTTL)
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Purger{cfg: cfg, api: api, refs: refs, stop: stop, cancel: cancel, dists: map[string]*dist{}, live: map[string]*batch{}}, nil
}

// Close stops polling the invalidations in progress: the purges waiting
// for them fail retryably (Pending), and their re-drives poll them again.
func (p *Purger) Close() { p.cancel() }

// Name implements purge.Purger.
func (p *Purger) Name() string { return Name }

// Purge implements purge.Purger: see the package comment. Result.Calls
// counts the CreateInvalidation calls made for the request's batches
// (polls are not counted); Result.Items the items whose invalidation
// CloudFront accepted.
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	if req.Empty() {
		return purge.Result{}, nil
	}
	items, refusal := p.plan(req)
	if refusal != nil {
		return purge.Result{}, refusal
	}
	if ctx.Err() != nil {
		return purge.Result{}, purge.NotSent(ctx, fmt.Sprintf("invalidate %d paths in cloudfront", len(items)))
	}
	var recs []Record
	if req.Ref != "" {
		// A failed read only loses the re-drive's shortcut: the batch is
		// then formed again, and its CallerReference, derived from the
		// same Ref and paths, may still match.
		recs, _ = p.refs.Load(ctx, req.Ref)
	}
	placed := p.place(ctx, req.Ref, items, recs)
	return p.wait(ctx, req, placed)
}

// wait waits for the batches of the request's items, and folds their
// outcome into the result.
func (p *Purger) wait(ctx context.Context, req purge.Request, placed []*batch) (purge.Result, error) {
	var order []*batch
	counts := map[*batch]int{}
	for _, b := range placed {
		if counts[b] == 0 {
			order = append(order, b)
		}
		counts[b]++
	}
	errs := make([]*purge.Error, len(order))
	var res purge.Result
	for i, b := range order {
		errs[i] = b.await(ctx)
		p.mu.Lock()
		res.Calls += b.calls
		p.mu.Unlock()
		if errs[i] == nil || b.accepted() {
			res.Items += counts[b]
		}
	}
	op := func(i int) string {
		b := order[i]
		what := fmt.Sprintf("invalidate %d %s in cloudfront distribution %s", counts[b], noun(req, counts[b]), b.dist)
		if id := b.id(); id != "" {
			what += " (invalidation " + id + ")"
		}
		return what
	}
	for i, e := range errs {
		if e != nil {
			c := *e
			c.Op = op(i)
			errs[i] = &c
		}
	}
	if pe := purge.Combine("purge cloudfront distribution "+req.Zone, errs, op); pe != nil {
		return res, pe
	}
	return res, nil
}

// noun names a request's items: "urls" when they are all URLs.
func noun(req purge.Request, n int) string {
	if len(req.URLs) == req.Items() {
		return "urls"
	}
	if n == 1 {
		return "item"
	}
	return "items"
}

// dist is one distribution's batches.
type dist struct {
	id string
	// queue are the batches waiting to be sent, in order; the last takes
	// new paths until it is full or sent.
	queue   []*batch
	sending bool
	// inProgress are the batches CloudFront made and has not been seen
	// to complete; changed is closed and replaced when one leaves.
	inProgress map[*batch]bool
	changed    chan struct{}
	// recent are the paths sent, by directory, with when: the storm
	// detector of collapse.
	recent map[string]map[string]time.Time
}

// distLocked is the state of distribution id; with p.mu held.
func (p *Purger) distLocked(id string) *dist {
	d := p.dists[id]
	if d == nil {
		d = &dist{id: id, inProgress: map[*batch]bool{}, changed: make(chan struct{}), recent: map[string]map[string]time.Time{}}
		p.dists[id] = d
	}
	return d
}

// place puts each item in a batch: one of recs that covers it (a
// re-drive's, resumed), else the distribution's open batch. It returns
// each item's batch.
func (p *Purger) place(ctx context.Context, ref string, items []item, recs []Record) []*batch {
	deadline, hasDeadline := ctx.Deadline()
	out := make([]*batch, len(items))
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, it := range items {
		for _, rec := range recs {
			if rec.Distribution == it.dist && covers(rec.Paths, it.path) {
				out[i] = p.resumeLocked(rec)
				break
			}
		}
		if out[i] != nil {
			out[i].joinLocked(ref, deadline, hasDeadline)
			continue
		}
		d := p.distLocked(it.dist)
		var open *batch
		if n := len(d.queue); n > 0 && d.queue[n-1].open() {
			open = d.queue[n-1]
			if !open.asked[it.path] && len(open.asked) >= p.cfg.MaxPathsPerBatch {
				open = nil
			}
		}
		if open == nil {
			open = newBatch(&p.mu, it.dist)
			d.queue = append(d.queue, open)
		}
		open.ask(it.path)
		open.joinLocked(ref, deadline, hasDeadline)
		out[i] = open
		p.startLocked(d)
	}
	return out
}

// resumeLocked is the batch of a re-drive's record: the live one with its
// CallerReference, else one made from the record, polled when its id is
// known and sent again, as it was, when not.
func (p *Purger) resumeLocked(rec Record) *batch {
	if b := p.live[rec.CallerReference]; b != nil {
		return b
	}
	b := newBatch(&p.mu, rec.Distribution)
	b.rec, b.resumed = rec, true
	p.live[rec.CallerReference] = b
	d := p.distLocked(rec.Distribution)
	if rec.ID != "" {
		b.markSent()
		close(b.created)
		d.inProgress[b] = true
		go p.poll(d, b)
		return b
	}
	d.queue = append(d.queue, b)
	p.startLocked(d)
	return b
}

// startLocked starts d's sender unless it runs.
func (p *Purger) startLocked(d *dist) {
	if !d.sending {
		d.sending = true
		go p.send(d)
	}
}

// callGrace is how long past its batch's deadline a call may still run:
// the requests waiting on it return at their deadline, not because the
// call ended first.
const callGrace = time.Second

// callContext bounds one call of the purger's own: CallTimeout, and the
// batch's deadline (plus callGrace) when it has one.
func (p *Purger) callContext(b *batch) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CallTimeout)
	if dl, ok := b.deadlineOf(&p.mu); ok {
		c2, cancel2 := context.WithDeadline(ctx, dl.Add(callGrace))
		return c2, func() { cancel2(); cancel() }
	}
	return ctx, cancel
}

// The buckets of the shared budget: creates spend the calls bucket, reads
// (GetInvalidation polls) the urls bucket, so that polling the
// invalidations in progress never starves the next batch.
const (
	createBucket = ratelimit.Calls
	readBucket   = ratelimit.URLs
)

// take spends one token of bucket bk of the shared budget for an API
// call, waiting for it until ctx ends.
func (p *Purger) take(ctx context.Context, bk ratelimit.Bucket) error {
	if p.cfg.Budget == nil {
		return nil
	}
	for {
		n, wait := p.cfg.Budget.Take(ctx, bk, 1)
		if n > 0 {
			return nil
		}
		t := time.NewTimer(cmp.Or(wait, 10*time.Millisecond))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// InProgress is how many invalidations this purger made at distribution
// dist and has not yet seen Completed.
func (p *Purger) InProgress(dist string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.dists[dist]; d != nil {
		return len(d.inProgress)
	}
	return 0
}
