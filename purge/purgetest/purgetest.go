// Package purgetest is the contract every purge.Purger meets, as one
// suite each CDN runs against its own target, on the model of Litestream's
// RunWithReplicaClient: Cloudflare, Fastly and Akamai against their stand-ins (and,
// with `make test-live`, against a real account), Varnish against a real
// varnishd and a stand-in node.
//
// A CDN implements Harness: it builds a fresh Target (a purger and what it
// purges) for every case, and says what its CDN purges and what its target
// can be made to do. A case that needs what a CDN or target lacks is
// skipped with the reason the harness gives.
//
// The cases (subtests of Run):
//   - EmptyRequest: a request for nothing makes no call.
//   - Kinds/<kind>: each kind the CDN purges is purged and counted; each
//     kind it does not is refused whole, permanently, naming the kind,
//     before any call.
//   - ItemsPerCall/<kind>: a request over the per-call limit is split
//     into calls within it, and every item is accepted.
//   - ServerError/<status>, Unreachable: 5xx answers and network errors
//     are retryable; the purger does not retry on its own.
//   - Refused, UnknownZone, BadCredential: a refusal, a zone the target
//     does not know and a credential it refuses are permanent.
//   - PartialFailure: when some calls fail, Result counts what the others
//     had accepted and the error names the failed call and its status.
//   - RateLimited, RetryAfter: a 429 is retryable and carries its
//     Retry-After.
//   - Deadline, Cancel, AlreadyCancelled: against a target that never
//     answers, Purge returns once the context ends, with a retryable error.
//
// Every error any case sees must be, or wrap, a *purge.Error and must carry
// none of the target's secrets.
package purgetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// Kind is one kind of purge.Request item.
type Kind string

// The purge kinds, as purge.Request has them.
const (
	URLs       Kind = "urls"
	Tags       Kind = "tags"
	Hosts      Kind = "hosts"
	Prefixes   Kind = "prefixes"
	Everything Kind = "everything"
)

// AllKinds are the kinds in the order the suite runs them.
var AllKinds = []Kind{URLs, Tags, Hosts, Prefixes, Everything}

// Capability is something a CDN or its target may lack; see
// Capabilities.Lacks.
type Capability string

// The capabilities cases depend on. A Target's field of the same name may
// be nil only when its Capabilities lack it.
const (
	// Record: the target tells which calls it received (Target.Calls).
	Record Capability = "Calls"
	// Fail: the target can be made to answer with an error (Target.Fail).
	Fail Capability = "Fail"
	// Hang: the target can be made to hold calls unanswered (Target.Hang).
	Hang Capability = "Hang"
	// Down: the target can be made unreachable (Target.Down).
	Down Capability = "Down"
	// Zones: the CDN has zones, and Target.BadZone is one the target does
	// not know.
	Zones Capability = "BadZone"
	// Credentials: the CDN has credentials, and Target.BadCredential builds
	// a purger with one the target refuses.
	Credentials Capability = "BadCredential"
	// RetryAfter: the purger reads a 429's Retry-After into the error.
	RetryAfter Capability = "RetryAfter"
	// Harmful: the target may be purged by host and purged whole. A real
	// account lacks it: the suite then never purges a host or everything
	// there (it still checks that a CDN without those kinds refuses them).
	Harmful Capability = "Harmful"
)

// Capabilities is what a Harness declares about its CDN and target.
type Capabilities struct {
	// Kinds are the kinds the CDN purges; the suite expects the others to
	// be refused.
	Kinds []Kind
	// PerCall is, per kind, the most items one call carries as the purger
	// of Harness.Target is configured. A kind without an entry has no
	// per-call item count (Varnish's tags fit a header's bytes) and its
	// ItemsPerCall case is skipped. Keep the limits small: the suite sends
	// 2×limit+1 items.
	PerCall map[Kind]int
	// Lacks names each capability the CDN or its target lacks with the
	// reason, which the skipped cases print.
	Lacks map[Capability]string
}

// Harness is what a CDN gives the suite.
type Harness interface {
	// Capabilities says what the CDN purges and what its target can do.
	Capabilities() Capabilities
	// Target returns a fresh target and a purger at it for one case; it
	// stops what it started when t ends.
	Target(t *testing.T) *Target
}

// Target is one case's CDN target with a purger at it. The function
// fields may be nil only for capabilities the harness lacks.
type Target struct {
	// Purger purges the target.
	Purger purge.Purger
	// Zone is every request's Zone ("" for CDNs without zones).
	Zone string
	// Secrets must never appear in an error: tokens, and the names of the
	// headers that carry them.
	Secrets []string
	// URL, Tag, Host and Prefix return the i-th distinct item of their
	// kind that the target may purge; for a real account, items no page
	// serves. Nil ones default to items of status.example.com.
	URL, Tag, Host, Prefix func(i int) string

	// Calls returns the purge calls the target received so far, in any
	// order.
	Calls func() []Call
	// Fail makes the target answer the next f.Count calls (every call when
	// 0) with f instead of purging.
	Fail func(f Failure)
	// Hang makes the target hold every call unanswered until the case ends.
	Hang func()
	// Waiting, when not nil, is how many calls the target holds right now.
	Waiting func() int
	// Down makes the target refuse connections.
	Down func()
	// BadZone is a zone the target does not know.
	BadZone string
	// BadCredential returns a purger at the target with a credential it
	// refuses.
	BadCredential func(t *testing.T) purge.Purger
}

// Call is one purge call a target received.
type Call struct {
	// Kind is what the call purged.
	Kind Kind
	// Items are the call's items as the target records them (a URL may
	// lose its scheme); one item for Everything.
	Items []string
	// Status is the HTTP status the target answered; 0 when none was sent.
	Status int
}

// Accepted reports whether the target accepted the call.
func (c Call) Accepted() bool { return c.Status >= 200 && c.Status < 300 }

// Failure is an answer a target gives instead of purging.
type Failure struct {
	// Status is the HTTP status.
	Status int
	// RetryAfter, when set, is sent as Retry-After.
	RetryAfter time.Duration
	// Count is how many calls fail; 0 means every call.
	Count int
}

// hangBound is how long a case waits for a Purge that should return once
// its context ends; far beyond any context of the suite, so that only a
// purger that ignores its context fails it.
const hangBound = 30 * time.Second

// Run runs the contract against h, one subtest per case.
func Run(t *testing.T, h Harness) {
	caps := h.Capabilities()
	s := &suite{h: h, caps: caps}
	t.Run("EmptyRequest", s.emptyRequest)
	t.Run("Kinds", func(t *testing.T) {
		for _, k := range AllKinds {
			t.Run(string(k), func(t *testing.T) { s.kind(t, k) })
		}
	})
	t.Run("ItemsPerCall", func(t *testing.T) {
		for _, k := range AllKinds {
			if slices.Contains(caps.Kinds, k) && k != Everything {
				t.Run(string(k), func(t *testing.T) { s.itemsPerCall(t, k) })
			}
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		for _, status := range []int{500, 502, 503} {
			t.Run(fmt.Sprint(status), func(t *testing.T) { s.serverError(t, status) })
		}
	})
	t.Run("Unreachable", s.unreachable)
	t.Run("Refused", s.refused)
	t.Run("UnknownZone", s.unknownZone)
	t.Run("BadCredential", s.badCredential)
	t.Run("PartialFailure", s.partialFailure)
	t.Run("RateLimited", s.rateLimited)
	t.Run("RetryAfter", s.retryAfter)
	t.Run("Deadline", s.deadline)
	t.Run("Cancel", s.cancel)
	t.Run("AlreadyCancelled", s.alreadyCancelled)
}

// suite holds what every case shares.
type suite struct {
	h    Harness
	caps Capabilities
}

// need skips the case when the harness lacks one of caps.
func (s *suite) need(t *testing.T, caps ...Capability) {
	t.Helper()
	for _, c := range caps {
		if why, lacks := s.caps.Lacks[c]; lacks {
			t.Skipf("lacks %s: %s", c, why)
		}
	}
}

// target starts a target and checks it provides what the harness claims.
func (s *suite) target(t *testing.T) *Target {
	t.Helper()
	tg := s.h.Target(t)
	provided := map[Capability]bool{
		Record: tg.Calls != nil, Fail: tg.Fail != nil, Hang: tg.Hang != nil, Down: tg.Down != nil,
		Zones: tg.BadZone != "", Credentials: tg.BadCredential != nil,
	}
	for c, ok := range provided {
		if _, lacks := s.caps.Lacks[c]; !ok && !lacks {
			t.Fatalf("the target has no %s, and the harness does not declare it lacking", c)
		}
	}
	return tg
}

// item returns the i-th item of kind k of the target.
func (tg *Target) item(k Kind, i int) string {
	gen := map[Kind]func(int) string{URLs: tg.URL, Tags: tg.Tag, Hosts: tg.Host, Prefixes: tg.Prefix}[k]
	if gen != nil {
		return gen(i)
	}
	switch k {
	case URLs:
		return fmt.Sprintf("https://status.example.com/purgetest/%03d", i)
	case Tags:
		return fmt.Sprintf("purgetest:%03d", i)
	case Hosts:
		return fmt.Sprintf("h%03d.status.example.com", i)
	default:
		return fmt.Sprintf("status.example.com/purgetest/%03d/", i)
	}
}

// request asks the target to purge n items of kind k.
func (tg *Target) request(k Kind, n int) purge.Request {
	req := purge.Request{Zone: tg.Zone}
	items := make([]string, n)
	for i := range items {
		items[i] = tg.item(k, i)
	}
	switch k {
	case URLs:
		req.URLs = items
	case Tags:
		req.Tags = items
	case Hosts:
		req.Hosts = items
	case Prefixes:
		req.Prefixes = items
	case Everything:
		req.Everything = true
	}
	return req
}

// calls returns the calls the target received, or nil when it cannot tell.
func (tg *Target) calls() []Call {
	if tg.Calls == nil {
		return nil
	}
	return tg.Calls()
}

// purgeError checks that err is a *purge.Error free of the target's
// secrets and returns it.
func (tg *Target) purgeError(t *testing.T, err error) *purge.Error {
	t.Helper()
	pe := purge.AsError(err)
	if pe == nil {
		t.Fatalf("err = %v (%T), want a *purge.Error", err, err)
	}
	for _, secret := range tg.Secrets {
		if secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("the error %q carries a secret", strings.ReplaceAll(err.Error(), secret, "[SECRET]"))
		}
	}
	return pe
}

// noRetryOfItsOwn checks that the target received exactly the calls the
// result counts: the purger leaves retrying to the layers above it.
func (tg *Target) noRetryOfItsOwn(t *testing.T, res purge.Result) {
	t.Helper()
	if tg.Calls != nil && len(tg.Calls()) != res.Calls {
		t.Errorf("the target received %d calls, the result counts %d", len(tg.Calls()), res.Calls)
	}
}

func (s *suite) emptyRequest(t *testing.T) {
	tg := s.target(t)
	res, err := tg.do(t, context.Background(), purge.Request{Zone: tg.Zone})
	if err != nil || res != (purge.Result{}) {
		t.Errorf("result %+v, err %v: want nothing done and no error", res, err)
	}
	if calls := tg.calls(); len(calls) != 0 {
		t.Errorf("the target received %d calls", len(calls))
	}
}

// do purges req, failing the test if Purge does not return within
// hangBound.
func (tg *Target) do(t *testing.T, ctx context.Context, req purge.Request) (purge.Result, error) {
	t.Helper()
	type outcome struct {
		res purge.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := tg.Purger.Purge(ctx, req)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(hangBound):
		t.Fatalf("Purge did not return within %s", hangBound)
		return purge.Result{}, nil
	}
}

func (s *suite) kind(t *testing.T, k Kind) {
	if !slices.Contains(s.caps.Kinds, k) {
		s.refusedKind(t, k)
		return
	}
	if k == Hosts || k == Everything {
		s.need(t, Harmful)
	}
	tg := s.target(t)
	n := 2
	if k == Everything {
		n = 1
	}
	res, err := tg.do(t, context.Background(), tg.request(k, n))
	if err != nil {
		tg.purgeError(t, err)
		t.Fatalf("purge %d %s: %v", n, k, err)
	}
	if res.Items != n || res.Calls < 1 {
		t.Errorf("result %+v, want %d items in at least one call", res, n)
	}
	if tg.Calls == nil {
		return
	}
	accepted := acceptedItems(tg.Calls(), k)
	if k != Everything && len(accepted) != n {
		t.Errorf("the target accepted %d distinct %s, want %d (calls %+v)", len(accepted), k, n, tg.Calls())
	}
	if k == Everything && len(accepted) != 1 {
		t.Errorf("the target accepted %d purge-everything calls, want 1", len(accepted))
	}
}

// refusedKind checks that a request with a kind the CDN does not purge is
// refused whole before any call: permanent, nothing counted, the kind named.
func (s *suite) refusedKind(t *testing.T, k Kind) {
	tg := s.target(t)
	req := tg.request(k, 2)
	req.URLs = append(req.URLs, tg.item(URLs, 0))
	res, err := tg.do(t, context.Background(), req)
	if err == nil {
		t.Fatalf("a request with %s, which the CDN does not purge, was accepted: %+v", k, res)
	}
	pe := tg.purgeError(t, err)
	if pe.Retryable || res != (purge.Result{}) {
		t.Errorf("err %q (retryable %t), result %+v: want a permanent refusal with nothing done", err, pe.Retryable, res)
	}
	if word := singular[k]; !strings.Contains(strings.ToLower(err.Error()), word) {
		t.Errorf("err %q does not name %s (%q)", err, k, word)
	}
	if calls := tg.calls(); len(calls) != 0 {
		t.Errorf("the target received %d calls", len(calls))
	}
}

// singular is how an error names a kind.
var singular = map[Kind]string{URLs: "url", Tags: "tag", Hosts: "host", Prefixes: "prefix", Everything: "everything"}

// acceptedItems are the distinct items of kind k in accepted calls.
func acceptedItems(calls []Call, k Kind) map[string]bool {
	out := map[string]bool{}
	for _, c := range calls {
		if c.Kind == k && c.Accepted() {
			for _, it := range c.Items {
				out[it] = true
			}
		}
	}
	return out
}

func (s *suite) itemsPerCall(t *testing.T, k Kind) {
	limit := s.caps.PerCall[k]
	if limit <= 0 {
		t.Skipf("the harness declares no per-call item limit for %s", k)
	}
	if k == Hosts {
		s.need(t, Harmful)
	}
	tg := s.target(t)
	n, want := 2*limit+1, 3
	res, err := tg.do(t, context.Background(), tg.request(k, n))
	if err != nil {
		tg.purgeError(t, err)
		t.Fatalf("purge %d %s: %v", n, k, err)
	}
	if res != (purge.Result{Items: n, Calls: want}) {
		t.Errorf("result %+v, want %d items in %d calls of at most %d", res, n, want, limit)
	}
	if tg.Calls == nil {
		return
	}
	var sizes []int
	for _, c := range tg.Calls() {
		if c.Kind == k {
			sizes = append(sizes, len(c.Items))
		}
	}
	if len(sizes) != want || slices.Max(sizes) > limit {
		t.Errorf("the target received calls of %v %s, want %d of at most %d", sizes, k, want, limit)
	}
	if got := len(acceptedItems(tg.Calls(), k)); got != n {
		t.Errorf("the target accepted %d distinct %s, want %d", got, k, n)
	}
	tg.noRetryOfItsOwn(t, res)
}

// failing purges a URL from a target answering f, and checks the error is a *purge.Error naming f's status.
func (s *suite) failing(t *testing.T, f Failure) (*Target, purge.Result, *purge.Error) {
	t.Helper()
	s.need(t, Fail)
	tg := s.target(t)
	tg.Fail(f)
	res, err := tg.do(t, context.Background(), tg.request(URLs, 1))
	if err == nil {
		t.Fatalf("a target answering %d: no error, result %+v", f.Status, res)
	}
	pe := tg.purgeError(t, err)
	if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", f.Status)) {
		t.Errorf("err %q does not name the status %d", err, f.Status)
	}
	if res.Items != 0 {
		t.Errorf("result %+v counts items a failing target refused", res)
	}
	tg.noRetryOfItsOwn(t, res)
	return tg, res, pe
}

func (s *suite) serverError(t *testing.T, status int) {
	_, _, pe := s.failing(t, Failure{Status: status})
	if !pe.Retryable {
		t.Errorf("a %d is not retryable: %v", status, pe)
	}
}

func (s *suite) refused(t *testing.T) {
	_, _, pe := s.failing(t, Failure{Status: 403})
	if pe.Retryable {
		t.Errorf("a 403 is retryable: %v", pe)
	}
}

func (s *suite) rateLimited(t *testing.T) {
	_, _, pe := s.failing(t, Failure{Status: 429, RetryAfter: 7 * time.Second})
	if !pe.Retryable {
		t.Errorf("a 429 is not retryable: %v", pe)
	}
}

func (s *suite) retryAfter(t *testing.T) {
	s.need(t, RetryAfter)
	_, _, pe := s.failing(t, Failure{Status: 429, RetryAfter: 7 * time.Second})
	if pe.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %v, want the 7s of the answer's Retry-After", pe.RetryAfter)
	}
}

func (s *suite) unreachable(t *testing.T) {
	s.need(t, Down)
	tg := s.target(t)
	tg.Down()
	res, err := tg.do(t, context.Background(), tg.request(URLs, 1))
	if err == nil {
		t.Fatalf("an unreachable target: no error, result %+v", res)
	}
	if pe := tg.purgeError(t, err); !pe.Retryable || strings.Contains(err.Error(), "HTTP ") || res.Items != 0 {
		t.Errorf("err %q (retryable %t), result %+v: want retryable, no status, nothing counted", err, pe.Retryable, res)
	}
}

// twoKinds is a request for a URL and, when the CDN purges tags, a tag: of
// the calls a zone names, one at least is refused for a bad zone.
func (s *suite) twoKinds(tg *Target, zone string) purge.Request {
	req := tg.request(URLs, 1)
	if slices.Contains(s.caps.Kinds, Tags) {
		req.Tags = []string{tg.item(Tags, 0)}
	}
	req.Zone = zone
	return req
}

func (s *suite) unknownZone(t *testing.T) {
	s.need(t, Zones)
	tg := s.target(t)
	res, err := tg.do(t, context.Background(), s.twoKinds(tg, tg.BadZone))
	if err == nil {
		t.Fatalf("an unknown zone: no error, result %+v", res)
	}
	if pe := tg.purgeError(t, err); pe.Retryable {
		t.Errorf("an unknown zone is retryable: %v", err)
	}
}

func (s *suite) badCredential(t *testing.T) {
	s.need(t, Credentials)
	tg := s.target(t)
	tg.Purger = tg.BadCredential(t)
	res, err := tg.do(t, context.Background(), s.twoKinds(tg, tg.Zone))
	if err == nil {
		t.Fatalf("a bad credential: no error, result %+v", res)
	}
	if pe := tg.purgeError(t, err); pe.Retryable || res.Items > 1 {
		t.Errorf("err %q (retryable %t), result %+v: want a permanent refusal", err, pe.Retryable, res)
	}
}

func (s *suite) partialFailure(t *testing.T) {
	s.need(t, Fail, Record)
	tg := s.target(t)
	per := max(1, s.caps.PerCall[URLs])
	tg.Fail(Failure{Status: 503, Count: 1})
	res, err := tg.do(t, context.Background(), tg.request(URLs, 2*per))
	if err == nil {
		t.Fatalf("one call of two failed: no error, result %+v", res)
	}
	pe := tg.purgeError(t, err)
	if !pe.Retryable || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("err %q (retryable %t): want retryable, naming the 503", err, pe.Retryable)
	}
	if res != (purge.Result{Items: per, Calls: 2}) {
		t.Errorf("result %+v, want the %d items of the call that passed, in 2 calls", res, per)
	}
	var failed []Call
	for _, c := range tg.Calls() {
		if !c.Accepted() {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("the target refused %d calls, want 1: %+v", len(failed), tg.Calls())
	}
	named := strings.Contains(err.Error(), fmt.Sprintf("%d urls", len(failed[0].Items)))
	for _, it := range failed[0].Items {
		named = named || strings.Contains(err.Error(), it)
	}
	if !named {
		t.Errorf("err %q names neither the failed call's items %v nor their number", err, failed[0].Items)
	}
	tg.noRetryOfItsOwn(t, res)
}

// hung purges from a hanging target under ctx and checks the error.
func (s *suite) hung(t *testing.T, ctx context.Context, tg *Target, start func()) {
	t.Helper()
	type outcome struct {
		res purge.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := tg.Purger.Purge(ctx, tg.request(URLs, 2))
		done <- outcome{res, err}
	}()
	start()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(hangBound):
		t.Fatalf("Purge held by a hanging target did not return within %s of its context's end", hangBound)
	}
	if ctx.Err() == nil {
		t.Errorf("Purge returned before its context ended: %+v, %v", o.res, o.err)
	}
	if o.err == nil {
		t.Fatalf("a hanging target: no error, result %+v", o.res)
	}
	if pe := tg.purgeError(t, o.err); !pe.Retryable || o.res.Items != 0 {
		t.Errorf("err %q (retryable %t), result %+v: want retryable, nothing counted", o.err, pe.Retryable, o.res)
	}
}

func (s *suite) deadline(t *testing.T) {
	s.need(t, Hang)
	tg := s.target(t)
	tg.Hang()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s.hung(t, ctx, tg, func() {})
}

func (s *suite) cancel(t *testing.T) {
	s.need(t, Hang)
	tg := s.target(t)
	tg.Hang()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.hung(t, ctx, tg, func() {
		// Cancel once a call is held, when the target can tell.
		for deadline := time.Now().Add(hangBound); tg.Waiting != nil && tg.Waiting() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	})
}

func (s *suite) alreadyCancelled(t *testing.T) {
	tg := s.target(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := tg.do(t, ctx, tg.request(URLs, 2))
	if err == nil {
		t.Fatalf("a cancelled context: no error, result %+v", res)
	}
	if pe := tg.purgeError(t, err); !pe.Retryable || res.Items != 0 {
		t.Errorf("err %q (retryable %t), result %+v: want retryable, nothing counted", err, pe.Retryable, res)
	}
	if got := acceptedItems(tg.calls(), URLs); len(got) != 0 {
		t.Errorf("the target accepted %v under a cancelled context", got)
	}
}
