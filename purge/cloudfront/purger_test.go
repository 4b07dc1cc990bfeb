package cloudfront

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cloudfrontstub"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// deadline is a purge's deadline in these tests: far beyond what any
// purge here needs, so only a purge that waits for what it should not
// reaches it.
const deadline = 2 * time.Minute

func purgeWithin(t *testing.T, p *Purger, d time.Duration, req purge.Request) (purge.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return p.Purge(ctx, req)
}

// TestURLsBecomePaths checks what a request sends: paths per
// distribution, prefixes as wildcards, the query kept, and that Purge
// returns once the invalidation is Completed.
func TestURLsBecomePaths(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	p := newPurger(t, base, Config{Distributions: map[string]string{"a.example.com": otherDist}})
	res, err := purgeWithin(t, p, deadline, purge.Request{Zone: testDist, URLs: []string{
		"https://status.example.com/", "https://status.example.com/history?page=2", "http://status.example.com/history?page=2",
		"https://a.example.com/x",
	}, Prefixes: []string{"status.example.com/incidents/"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 5 || res.Calls != 2 {
		t.Errorf("result %+v, want 5 items in 2 calls", res)
	}
	invs := stub.Invalidations(testDist)
	if len(invs) != 1 || !slices.Equal(invs[0].Paths, []string{"/", "/history?page=2", "/incidents/*"}) {
		t.Errorf("invalidations of %s: %+v", testDist, invs)
	}
	if got := stub.Invalidations(otherDist); len(got) != 1 || !slices.Equal(got[0].Paths, []string{"/x"}) {
		t.Errorf("invalidations of %s: %+v", otherDist, got)
	}
	for _, inv := range append(invs, stub.Invalidations(otherDist)...) {
		if !completed(stub, inv) {
			t.Errorf("Purge returned before invalidation %s was Completed", inv.ID)
		}
	}
}

// completed reports whether the stand-in answered a GetInvalidation of
// inv with Completed, i.e. it was read after it completed.
func completed(stub *cloudfrontstub.Server, inv cloudfrontstub.Invalidation) bool {
	for _, c := range stub.Calls() {
		if c.Op == cloudfrontstub.OpGetInvalidation && c.Invalidation == inv.ID && c.Status == 200 {
			return true
		}
	}
	return false
}

// TestRefusals checks what CloudFront cannot purge is refused whole,
// naming it and the fix, with nothing sent.
func TestRefusals(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	p := newPurger(t, base, Config{Distributions: map[string]string{"alone.example.com": testDist, "a.example.com": otherDist, "b.example.com": otherDist}})
	for _, c := range []struct {
		req  purge.Request
		want string
	}{
		{purge.Request{Zone: testDist, Tags: []string{"page:x"}, URLs: []string{"https://status.example.com/"}}, "no cache tags"},
		{purge.Request{Zone: testDist, Hosts: []string{"a.example.com"}}, "also serves"},
		{purge.Request{Zone: testDist, Hosts: []string{"unmapped.example.com"}}, "cloudfront.distributions"},
		{purge.Request{URLs: []string{"https://nowhere.example.com/"}}, "cloudfront.distribution_id"},
	} {
		res, err := p.Purge(context.Background(), c.req)
		if err == nil {
			t.Errorf("%+v: accepted (%+v)", c.req, res)
			continue
		}
		if pe := purgeError(t, err); pe.Retryable || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was purged") {
			t.Errorf("%+v: err %q (retryable %t), want a permanent refusal saying %q", c.req, err, pe.Retryable, c.want)
		}
	}
	if n := len(stub.Calls()); n != 0 {
		t.Errorf("refusals sent %d calls", n)
	}
	// A host its distribution serves alone is purged whole.
	if _, err := purgeWithin(t, p, deadline, purge.Request{Hosts: []string{"alone.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if invs := stub.Invalidations(testDist); len(invs) != 1 || !slices.Equal(invs[0].Paths, []string{"/*"}) {
		t.Errorf("host purge: %+v", invs)
	}
}

// TestCredentials checks that refused credentials and a missing IAM
// permission are permanent and say what to fix.
func TestCredentials(t *testing.T) {
	_, base := startStub(t, cloudfrontstub.Options{Denied: []string{cloudfrontstub.ActionCreateInvalidation}})
	req := purge.Request{Zone: testDist, URLs: []string{"https://status.example.com/"}}
	for _, c := range []struct {
		name      string
		cfg       Config
		want, fix string
		perm      string
	}{
		{"wrong secret", Config{AccessKeyID: cloudfrontstub.TestAccessKeyID, SecretAccessKey: wrongSec}, "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY", ""},
		{"unknown key", Config{AccessKeyID: wrongKey, SecretAccessKey: wrongSec}, "InvalidClientTokenId", "AWS_ACCESS_KEY_ID", ""},
		{"no permission", Config{}, "AccessDenied", PermCreateInvalidation, PermCreateInvalidation},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := purgeWithin(t, newPurger(t, base, c.cfg), deadline, req)
			if err == nil {
				t.Fatal("accepted")
			}
			pe := purgeError(t, err)
			if pe.Retryable || pe.StatusCode != 403 || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.fix) || pe.Permission != c.perm {
				t.Errorf("err %q (retryable %t, permission %q): want a permanent 403 %s naming %s", err, pe.Retryable, pe.Permission, c.want, c.fix)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("err %q carries %q", err, s)
				}
			}
		})
	}
}

// TestRedriveAfterLostAnswer: CloudFront made the invalidation but its
// answer was lost; the purge fails retryably, and its re-drive (same
// Ref) creates no second invalidation, even from another instance
// sharing the Refs in Redis.
func TestRedriveAfterLostAnswer(t *testing.T) { redriveAfterLostAnswer(t, newMemRefs(time.Hour)) }

// TestRedriveAfterLostAnswerRedis is TestRedriveAfterLostAnswer with the
// Refs in Redis, as the app keeps them.
func TestRedriveAfterLostAnswerRedis(t *testing.T) {
	redriveAfterLostAnswer(t, RedisRefs{RDB: redistest.Client(t), Prefix: redistest.Prefix(t), TTL: time.Hour})
}

func redriveAfterLostAnswer(t *testing.T, refs Refs) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	req := purge.Request{Zone: testDist, URLs: urls("incidents", 3), Ref: "evt-lost/cloudfront"}
	stub.LoseAnswers(1)
	_, err := purgeWithin(t, newPurger(t, base, Config{Refs: refs}), deadline, req)
	if err == nil {
		t.Fatal("a lost answer: no error")
	}
	if pe := purgeError(t, err); !pe.Retryable {
		t.Fatalf("a lost answer is not retryable: %v", err)
	}
	if n := len(stub.Invalidations(testDist)); n != 1 {
		t.Fatalf("the stand-in made %d invalidations, want the 1 whose answer was lost", n)
	}
	// The re-drive, on another instance.
	res, err := purgeWithin(t, newPurger(t, base, Config{Refs: refs}), deadline, req)
	if err != nil {
		t.Fatalf("re-drive: %v", err)
	}
	if res.Items != 3 {
		t.Errorf("re-drive result %+v, want 3 items", res)
	}
	invs := stub.Invalidations(testDist)
	if len(invs) != 1 {
		t.Fatalf("after the re-drive the stand-in has %d invalidations, want 1: %+v", len(invs), invs)
	}
	creates := stub.CreateCalls()
	if len(creates) != 2 || creates[0].CallerReference != creates[1].CallerReference || creates[1].Invalidation != invs[0].ID {
		t.Errorf("creates %+v: want the same batch sent twice, answered with the one invalidation", creates)
	}
	if !completed(stub, invs[0]) {
		t.Error("the re-drive returned before the invalidation was Completed")
	}
}

// TestRedrivePollsSameInvalidation: an invalidation still InProgress at
// the deadline fails the purge retryably; the re-drive waits for that
// same invalidation and creates none.
func TestRedrivePollsSameInvalidation(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	stub.HoldInProgress(true)
	p := newPurger(t, base, Config{})
	req := purge.Request{Zone: testDist, URLs: urls("incidents", 2), Ref: "evt-slow/cloudfront"}
	res, err := purgeUntil(t, p, req, func() bool { return p.InProgress(testDist) == 1 })
	if err == nil {
		t.Fatal("an invalidation held InProgress: no error")
	}
	if pe := purgeError(t, err); !pe.Retryable || !pe.Pending || pe.Unsent || !strings.Contains(err.Error(), "InProgress") {
		t.Fatalf("err %q (retryable %t, pending %t, unsent %t): want retryable, pending, sent, saying InProgress", err, pe.Retryable, pe.Pending, pe.Unsent)
	}
	if res.Items != 2 || res.Calls != 1 {
		t.Errorf("result %+v: want the 2 accepted items in 1 call", res)
	}
	stub.HoldInProgress(false)
	if _, err := purgeWithin(t, p, deadline, req); err != nil {
		t.Fatalf("re-drive: %v", err)
	}
	if n := len(stub.CreateCalls()); n != 1 {
		t.Errorf("%d CreateInvalidation calls, want 1: the re-drive polls the first", n)
	}
	// Another instance with the same Refs (here: none shared) would form
	// the batch again with the same CallerReference; CloudFront answers
	// with the same invalidation.
	invs := stub.Invalidations(testDist)
	if len(invs) != 1 || !completed(stub, invs[0]) {
		t.Errorf("invalidations %+v: want the one, Completed", invs)
	}
}

// purgeUntil purges req, and ends the purge's context once cond holds
// (checked every few milliseconds, for at most deadline): a purge cut
// short at a known point, whatever the machine's speed.
func purgeUntil(t *testing.T, p *Purger, req purge.Request, cond func() bool) (purge.Result, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res purge.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := p.Purge(ctx, req)
		done <- outcome{res, err}
	}()
	for end := time.Now().Add(deadline); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the condition never held")
		}
	}
	cancel()
	o := <-done
	return o.res, o.err
}

// TestSameWorkSameCallerReference: without a record (Redis lost it), the
// same request forms the same batch, whose CallerReference CloudFront
// recognises.
func TestSameWorkSameCallerReference(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	req := purge.Request{Zone: testDist, URLs: urls("incidents", 2), Ref: "evt-again/cloudfront"}
	for range 2 {
		if _, err := purgeWithin(t, newPurger(t, base, Config{}), deadline, req); err != nil {
			t.Fatal(err)
		}
	}
	if invs := stub.Invalidations(testDist); len(invs) != 1 {
		t.Errorf("%d invalidations for the same work, want 1", len(invs))
	}
}

// TestStorm purges a 10,000-page storm at once: every page's URLs on its
// own host of one distribution, each with its incident's path. CloudFront
// invalidates a path on every host of the distribution, so the purges
// share a few batches, the incident paths collapse into /incidents/*, and
// the in-progress limits are never exceeded.
func TestStorm(t *testing.T) {
	const pages = 10000
	stub, base := startStub(t, cloudfrontstub.Options{CompleteAfter: 50 * time.Millisecond})
	p := newPurger(t, base, Config{
		Distributions: map[string]string{"*.status.example.com": testDist},
		CollapseAfter: DefaultCollapseAfter, PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond,
	})
	var wg sync.WaitGroup
	errs := make(chan error, pages)
	for i := range pages {
		wg.Go(func() {
			host := fmt.Sprintf("https://p%05d.status.example.com", i)
			_, err := purgeWithin(t, p, deadline, purge.Request{Ref: fmt.Sprintf("evt-%05d/cloudfront", i), URLs: []string{
				host + "/", host + "/history", host + "/api/v2/summary.json", host + "/api/v2/incidents.json",
				fmt.Sprintf("%s/incidents/inc%05d", host, i),
			}})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a purge of the storm failed: %v", err)
	}
	distinct := map[string]bool{}
	invs := stub.Invalidations(testDist)
	for _, inv := range invs {
		for _, path := range inv.Paths {
			distinct[path] = true
		}
	}
	if len(distinct) > 300 {
		t.Errorf("the storm sent %d distinct paths, want at most a few hundred", len(distinct))
	}
	if !distinct["/incidents/*"] {
		t.Errorf("the incident paths did not collapse into /incidents/*")
	}
	paths, wild := stub.Peak(testDist)
	if paths > cloudfrontstub.DefaultMaxPathsInProgress || wild > cloudfrontstub.DefaultMaxWildcardsInProgress || stub.RefusedForLimits() > 0 {
		t.Errorf("in progress at most %d paths and %d wildcards, %d refusals: over CloudFront's limits", paths, wild, stub.RefusedForLimits())
	}
	t.Logf("%d pages: %d invalidations, %d distinct paths, peak %d paths and %d wildcards in progress", pages, len(invs), len(distinct), paths, wild)
}

// TestTooManyInProgressIsWaitedOut: CloudFront refuses a batch with
// TooManyInvalidationsInProgress (another instance's invalidations fill
// the distribution); the purge waits and retries under its deadline, and
// goes through once they complete.
func TestTooManyInProgressIsWaitedOut(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{MaxWildcardsInProgress: 1})
	stub.HoldInProgress(true)
	other := newPurger(t, base, Config{})
	if _, err := purgeUntil(t, other, purge.Request{Zone: testDist, Prefixes: []string{testHost + "/a/"}}, func() bool { return other.InProgress(testDist) == 1 }); err == nil {
		t.Fatal("an invalidation held InProgress: no error")
	}
	done := make(chan error, 1)
	go func() {
		_, err := purgeWithin(t, newPurger(t, base, Config{}), deadline, purge.Request{Zone: testDist, Prefixes: []string{testHost + "/b/"}})
		done <- err
	}()
	for stub.RefusedForLimits() == 0 {
		select {
		case err := <-done:
			t.Fatalf("the purge returned (%v) before CloudFront refused it for the limits", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	stub.HoldInProgress(false)
	if err := <-done; err != nil {
		t.Fatalf("the purge did not wait out TooManyInvalidationsInProgress: %v", err)
	}
	if n := len(stub.Invalidations(testDist)); n != 2 {
		t.Errorf("%d invalidations, want 2", n)
	}
}

// TestStormInWaves is the storm arriving in 100 waves of 100 pages, each
// wave after the one before finished: the incident paths of later waves
// collapse into /incidents/* because earlier ones sent more than
// CollapseAfter of them.
func TestStormInWaves(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	p := newPurger(t, base, Config{
		Distributions: map[string]string{"*.status.example.com": testDist},
		CollapseAfter: DefaultCollapseAfter,
	})
	for wave := range 100 {
		var wg sync.WaitGroup
		for j := range 100 {
			i := wave*100 + j
			wg.Go(func() {
				host := fmt.Sprintf("https://p%05d.status.example.com", i)
				if _, err := purgeWithin(t, p, deadline, purge.Request{Ref: fmt.Sprintf("evt-%05d/cloudfront", i),
					URLs: []string{host + "/", host + "/history", fmt.Sprintf("%s/incidents/inc%05d", host, i)}}); err != nil {
					t.Errorf("page %d: %v", i, err)
				}
			})
		}
		wg.Wait()
	}
	distinct := map[string]bool{}
	for _, inv := range stub.Invalidations(testDist) {
		for _, path := range inv.Paths {
			distinct[path] = true
		}
	}
	if len(distinct) > 300 || !distinct["/incidents/*"] {
		t.Errorf("%d distinct paths (/incidents/* among them: %t), want at most a few hundred, collapsed", len(distinct), distinct["/incidents/*"])
	}
	if stub.RefusedForLimits() > 0 {
		t.Errorf("%d batches refused for the in-progress limits", stub.RefusedForLimits())
	}
	t.Logf("%d invalidations, %d distinct paths", len(stub.Invalidations(testDist)), len(distinct))
}

// budget counts the tokens taken and the pauses, per bucket.
type budget struct {
	mu     sync.Mutex
	taken  map[ratelimit.Bucket]int
	paused map[ratelimit.Bucket]time.Duration
}

func (b *budget) Take(_ context.Context, bk ratelimit.Bucket, n int) (int, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.taken[bk] += n
	return n, 0
}

func (b *budget) Pause(_ context.Context, bk ratelimit.Bucket, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused[bk] = d
}

// TestThrottlingIsWaitedOutThroughTheBudget: a create answered Throttling
// pauses the shared budget's create bucket for its Retry-After, and is
// sent again under the deadline; creates and polls spend their own
// buckets.
func TestThrottlingIsWaitedOutThroughTheBudget(t *testing.T) {
	stub, base := startStub(t, cloudfrontstub.Options{})
	stub.SetFailure(cloudfrontstub.Failure{Status: 400, Code: "Throttling", RetryAfter: time.Second, Count: 1})
	b := &budget{taken: map[ratelimit.Bucket]int{}, paused: map[ratelimit.Bucket]time.Duration{}}
	var retries []string
	res, err := purgeWithin(t, newPurger(t, base, Config{Budget: b, OnRetry: func(r string) { retries = append(retries, r) }}), deadline, purge.Request{Zone: testDist, URLs: urls("x", 2)})
	if err != nil {
		t.Fatalf("a throttled create was not waited out: %v", err)
	}
	if res.Calls != 2 || len(stub.Invalidations(testDist)) != 1 {
		t.Errorf("result %+v, %d invalidations: want 2 calls making 1", res, len(stub.Invalidations(testDist)))
	}
	if b.paused[ratelimit.Calls] != time.Second || b.taken[ratelimit.Calls] != 2 || b.taken[ratelimit.URLs] < 1 {
		t.Errorf("budget: paused %v, taken %v: want the calls bucket paused 1s, 2 creates and the polls apart", b.paused, b.taken)
	}
	if !slices.Equal(retries, []string{"429"}) {
		t.Errorf("retries told %q, want one for throttling", retries)
	}
}

// TestCheckDistribution: the read passes for a distribution whose hosts
// the config maps; a host mapped alone to a distribution that serves
// others too fails it, naming them.
func TestCheckDistribution(t *testing.T) {
	_, base := startStub(t, cloudfrontstub.Options{})
	ok := newPurger(t, base, Config{Distributions: map[string]string{testHost: testDist}})
	if err := ok.CheckDistribution(context.Background(), testDist); err != nil {
		t.Errorf("a distribution serving only its mapped host: %v", err)
	}
	alone := newPurger(t, base, Config{Distributions: map[string]string{"a.example.com": otherDist}})
	err := alone.CheckDistribution(context.Background(), otherDist)
	if err == nil || !strings.Contains(err.Error(), "b.example.com") {
		t.Errorf("a host mapped alone to a distribution serving another: %v", err)
	}
	if err := ok.CheckDistribution(context.Background(), "ENOSUCHDIST0"); err == nil || !strings.Contains(err.Error(), "NoSuchDistribution") {
		t.Errorf("an unknown distribution: %v", err)
	}
}
