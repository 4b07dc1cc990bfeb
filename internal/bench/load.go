package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// maxEventsPerPhase bounds every phase in count whatever its duration, so
// that a very fast server cannot make a sender loop run away.
const maxEventsPerPhase = 5_000_000

// statusError is the key of transport errors (no HTTP answer: refused,
// reset, timed out) in loadResult.statuses.
const statusError = 0

// loadSpec says how to fire one phase's events.
type loadSpec struct {
	// addr is the server's host:port, always on 127.0.0.1.
	addr        string
	concurrency int
	duration    time.Duration
	// events stops the phase after this many events; 0 means only the
	// duration (and maxEventsPerPhase) bound it.
	events int
	// timeout bounds each request.
	timeout time.Duration
	work    Workload
	runID   string
	secret  string
	token   string
}

// loadResult is what the senders of one phase measured.
type loadResult struct {
	sent int
	// latencies of every request that got an HTTP answer, sorted.
	latencies []time.Duration
	// statuses counts answers by HTTP status; statusError counts requests
	// that got none.
	statuses map[int]int
	// samples holds the first answer body (or transport error) of each
	// non-2xx status, to say why.
	samples map[int]string
	elapsed time.Duration
}

// ok is how many requests were answered 200: purged. A 202 is journaled,
// not yet purged, and counts apart (see Figures.Journaled).
func (r loadResult) ok() int { return r.statuses[200] }

// senderResult is one sender's share of a loadResult.
type senderResult struct {
	latencies []time.Duration
	statuses  map[int]int
	samples   map[int]string
}

// fire runs spec.concurrency closed-loop senders against the server: each
// sends one event, waits for the answer, and sends the next, until the
// duration is over, the event budget is spent or ctx ends. It returns once
// every answer is in; each request is bounded by spec.timeout.
func fire(ctx context.Context, spec loadSpec) (loadResult, error) {
	if spec.concurrency < 1 {
		return loadResult{}, fmt.Errorf("fire: concurrency %d: must be positive", spec.concurrency)
	}
	client := &fasthttp.HostClient{
		Addr:                     spec.addr,
		Name:                     "edgepurge-bench",
		MaxConns:                 spec.concurrency,
		MaxIdleConnDuration:      time.Minute,
		ReadTimeout:              spec.timeout,
		WriteTimeout:             spec.timeout,
		MaxConnWaitTimeout:       spec.timeout,
		NoDefaultUserAgentHeader: true,
		// POSTs are never retried: a retry would be a second event.
		RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
	}
	defer client.CloseIdleConnections()

	limit := maxEventsPerPhase
	if spec.events > 0 {
		limit = min(spec.events, maxEventsPerPhase)
	}
	var budget atomic.Int64
	results := make([]senderResult, spec.concurrency)
	start := time.Now()
	end := start.Add(spec.duration)
	var wg sync.WaitGroup
	for i := range spec.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := newGenerator(spec.work, spec.runID, i, spec.secret, spec.token)
			results[i] = send(ctx, client, gen, spec, end, func() bool { return budget.Add(1) <= int64(limit) })
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	out := loadResult{statuses: map[int]int{}, samples: map[int]string{}, elapsed: elapsed}
	for _, r := range results {
		out.latencies = append(out.latencies, r.latencies...)
		for code, n := range r.statuses {
			out.statuses[code] += n
			out.sent += n
		}
		for code, s := range r.samples {
			if _, ok := out.samples[code]; !ok {
				out.samples[code] = s
			}
		}
	}
	slices.Sort(out.latencies)
	return out, nil
}

// send is one sender's loop. take reserves one event of the phase's budget
// and reports false once it is spent; the loop is also bounded by end and
// ctx, and each request by spec.timeout.
func send(ctx context.Context, client *fasthttp.HostClient, gen *generator, spec loadSpec, end time.Time, take func() bool) senderResult {
	r := senderResult{statuses: map[int]int{}, samples: map[int]string{}}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	hookURI := "http://" + spec.addr + hookPath
	for ctx.Err() == nil && time.Now().Before(end) && take() {
		now := time.Now()
		ev, err := gen.next(now)
		if err != nil {
			// Signing fails the same way every time: stop this sender.
			r.note(statusError, err.Error())
			break
		}
		req.Reset()
		resp.Reset()
		req.Header.SetMethod(fasthttp.MethodPost)
		if ev.statuspage {
			req.SetRequestURI("http://" + spec.addr + ev.path)
		} else {
			req.SetRequestURI(hookURI)
			req.Header.Set("webhook-id", ev.id)
			req.Header.Set("webhook-timestamp", ev.timestamp)
			req.Header.Set("webhook-signature", ev.signature)
		}
		req.Header.SetContentType("application/json")
		req.SetBody(ev.body)

		sentAt := time.Now()
		err = client.DoDeadline(req, resp, sentAt.Add(spec.timeout))
		took := time.Since(sentAt)
		if err != nil {
			r.note(statusError, err.Error())
			continue
		}
		code := resp.StatusCode()
		r.latencies = append(r.latencies, took)
		if code >= 200 && code < 300 {
			r.statuses[code]++ // the hot path: no copy of the body
			continue
		}
		r.note(code, string(resp.Body()))
	}
	return r
}

// note counts one failed outcome and keeps its first detail.
func (r *senderResult) note(code int, detail string) {
	r.statuses[code]++
	if _, ok := r.samples[code]; !ok {
		const maxSample = 300
		if len(detail) > maxSample {
			detail = detail[:maxSample] + "…"
		}
		r.samples[code] = detail
	}
}
