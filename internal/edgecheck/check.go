package edgecheck

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
)

// validators are what the edge served for a URL before the purge.
type validators struct {
	etag, lastModified string
}

// snapshot fetches every URL through the edge before the purge, for its
// ETag and Last-Modified: a different one afterwards proves a new copy even
// from an edge that sends no Age. It is best effort, bounded by a third of
// the timeout and by a tenth of what is left of the request's deadline,
// since it delays the purge: a slow edge must never eat the purge's time.
func (v *Checker) snapshot(ctx context.Context, edge string, urls []string) map[string]validators {
	bound := v.timeout / 3
	if deadline, ok := ctx.Deadline(); ok {
		bound = min(bound, time.Until(deadline)/10)
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	out := make(map[string]validators, len(urls))
	var mu sync.Mutex
	v.each(ctx, urls, func(u string) {
		resp, err := v.fetch(ctx, edge, u)
		if err != nil {
			return
		}
		mu.Lock()
		out[u] = validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
		mu.Unlock()
	})
	return out
}

// checkAll fetches every URL through the edge and judges it against the
// time the purge began. The checks are in the order of urls.
func (v *Checker) checkAll(ctx context.Context, edge string, urls []string, before map[string]validators, purgedAt time.Time) []chain.URLCheck {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	checks := make([]chain.URLCheck, len(urls))
	index := make(map[string]int, len(urls))
	for i, u := range urls {
		index[u] = i
	}
	v.each(ctx, urls, func(u string) {
		c := chain.URLCheck{URL: u}
		resp, err := v.fetch(ctx, edge, u)
		if err != nil {
			c.Result, c.Error = chain.CheckFailed, err.Error()
		} else {
			c.Age, c.CacheStatus = resp.Header.Get("Age"), cacheStatus(resp.Header)
			c.Result = judge(resp.Header, before[u], time.Since(purgedAt))
		}
		checks[index[u]] = c
	})
	return checks
}

// each runs f for every URL, maxConcurrentChecks at a time.
func (v *Checker) each(ctx context.Context, urls []string, f func(u string)) {
	slots := make(chan struct{}, maxConcurrentChecks)
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
			}
			f(u)
		})
	}
	wg.Wait()
}

// fetch GETs u through the edge: the request goes to the edge's address
// with u's host in the Host header (and, over TLS, in SNI). The body is
// read and dropped, so the connection is reused.
func (v *Checker) fetch(ctx context.Context, edge, raw string) (*http.Response, error) {
	client, scheme, err := v.edges.get(edge)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Fragment = scheme, ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "edgepurge-verify")
	resp, err := client.Do(req)
	if err != nil {
		// Not the url.Error's text, which repeats the method and URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

// cacheStatus is the edge's own word on the answer: X-Cache (Varnish,
// Fastly, CloudFront) or CF-Cache-Status (Cloudflare).
func cacheStatus(h http.Header) string {
	if s := h.Get("X-Cache"); s != "" {
		return s
	}
	return h.Get("CF-Cache-Status")
}

// judge says whether an answer came from a copy cached before the purge.
// It is verified when any of these holds: the edge says it did not serve
// from cache (MISS, EXPIRED, BYPASS, DYNAMIC, PASS); Age is absent, or no
// older than the time since the purge began (Age counts whole seconds, so
// it is compared with the whole seconds elapsed); the ETag or Last-Modified
// differs from the one served before the purge.
func judge(h http.Header, before validators, sincePurge time.Duration) string {
	if notFromCache(cacheStatus(h)) {
		return chain.CheckVerified
	}
	age := h.Get("Age")
	if age == "" {
		return chain.CheckVerified
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(age), 10, 64); err == nil && n <= int64(sincePurge/time.Second) {
		return chain.CheckVerified
	}
	if before.etag != "" && h.Get("ETag") != "" && h.Get("ETag") != before.etag {
		return chain.CheckVerified
	}
	if newer(h.Get("Last-Modified"), before.lastModified) {
		return chain.CheckVerified
	}
	return chain.CheckStale
}

// notFromCache reports whether a cache-status value says the answer was
// not a cached copy. A tiered value ("MISS, HIT") counts only if every
// tier missed.
func notFromCache(status string) bool {
	if status == "" {
		return false
	}
	for _, part := range strings.Split(status, ",") {
		switch strings.ToUpper(strings.TrimSpace(part)) {
		case "MISS", "EXPIRED", "BYPASS", "DYNAMIC", "PASS":
		default:
			return false
		}
	}
	return true
}

// newer reports whether Last-Modified now is later than before.
func newer(now, before string) bool {
	if now == "" || before == "" {
		return false
	}
	t1, err1 := http.ParseTime(now)
	t0, err0 := http.ParseTime(before)
	return err1 == nil && err0 == nil && t1.After(t0)
}
