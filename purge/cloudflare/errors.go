package cloudflare

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/cache"

	"github.com/edgepurge/edgepurge/purge"
)

// apiMessage is one entry of an answer's "errors".
type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// envelope is Cloudflare's answer around a result of type T.
type envelope[T any] struct {
	Success bool         `json:"success"`
	Errors  []apiMessage `json:"errors"`
	Result  T            `json:"result"`
}

// purgeResult is purge_cache's result.
type purgeResult struct {
	ID string `json:"id"`
}

// check turns a 2xx answer that says "success": false into an error. Such
// answers report invalid items, so retrying them would not help.
func (e envelope[T]) check(op string, res *http.Response) *purge.Error {
	if e.Success {
		return nil
	}
	pe := &purge.Error{Op: op}
	if res != nil {
		pe.StatusCode = res.StatusCode
	}
	pe.Codes, pe.Message = splitMessages(e.Errors)
	if pe.Message == "" {
		pe.Message = "answer without success"
	}
	return pe
}

func splitMessages(msgs []apiMessage) (codes []int, message string) {
	texts := make([]string, 0, len(msgs))
	for _, m := range msgs {
		codes = append(codes, m.Code)
		texts = append(texts, m.Message)
	}
	return codes, strings.Join(texts, "; ")
}

// toError turns an SDK call's error into a *purge.Error. The SDK's own error
// string dumps the request, so it is never used; messages are rebuilt from
// the answer's fields and any trace of the token is removed.
func (p *Purger) toError(ctx context.Context, op string, res *http.Response, err error) *purge.Error {
	pe := &purge.Error{Op: op}
	var apiErr *cache.Error
	switch {
	case errors.As(err, &apiErr):
		pe.StatusCode = apiErr.StatusCode
		pe.Retryable = purge.RetryableStatus(apiErr.StatusCode)
		msgs := make([]apiMessage, 0, len(apiErr.Errors))
		for _, e := range apiErr.Errors {
			msgs = append(msgs, apiMessage{Code: int(e.Code), Message: e.Message})
		}
		pe.Codes, pe.Message = splitMessages(msgs)
		if apiErr.Response != nil {
			pe.RetryAfter = retryAfter(apiErr.Response)
			if len(msgs) == 0 && edgeRateLimited(apiErr.Response) {
				// The SDK takes the page for an answer without errors.
				pe.Codes, pe.Message = []int{CodeEdgeRateLimited}, edgeRateLimitedMessage
			}
		}
	case ctx.Err() != nil:
		// Our deadline, not Cloudflare's refusal: the same call may go
		// through with more time.
		pe.Message = ctx.Err().Error()
		pe.Retryable = true
	case res != nil:
		// An answer arrived but was not Cloudflare's JSON (e.g. a proxy's
		// HTML error page, or the edge's error 1015 page for a 429).
		pe.StatusCode = res.StatusCode
		pe.Message = "unreadable answer: " + err.Error()
		if edgeRateLimited(res) {
			pe.Codes, pe.Message = []int{CodeEdgeRateLimited}, edgeRateLimitedMessage
		}
		pe.Retryable = res.StatusCode < 400 || purge.RetryableStatus(res.StatusCode)
		pe.RetryAfter = retryAfter(res)
	default:
		// No answer: connection refused, reset, timed out.
		pe.Message = err.Error()
		pe.Retryable = true
	}
	pe.Message = p.redact(pe.Message)
	return pe
}

// redact removes the API token from a message, should any text carry it.
func (p *Purger) redact(msg string) string { return purge.Redact(msg, p.token) }

// CodeEdgeRateLimited is the code of Cloudflare's edge's "You are being
// rate limited" page (error 1015), answered with 429 and Retry-After: 30
// as HTML rather than the API's JSON.
const CodeEdgeRateLimited = 1015

// edgeRateLimitedMessage is the message of an error 1015 page.
const edgeRateLimitedMessage = "rate limited by Cloudflare's edge (error 1015 page, not the API's JSON)"

// edgeRateLimited reports whether a non-JSON answer is the edge's error
// 1015 page: a 429 whose body names error 1015. The SDK leaves the body
// readable; at most maxPage bytes of it are looked at.
func edgeRateLimited(res *http.Response) bool {
	const maxPage = 64 << 10
	if res.StatusCode != http.StatusTooManyRequests || res.Body == nil {
		return false
	}
	page, _ := io.ReadAll(io.LimitReader(res.Body, maxPage))
	return strings.Contains(string(page), "1015")
}

// retryAfter is how long an answer asks to wait: its Retry-After, or else,
// for a 429, when the exhausted quota of its Ratelimit header resets.
func retryAfter(res *http.Response) time.Duration {
	if d := purge.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now()); d > 0 || res.StatusCode != http.StatusTooManyRequests {
		return d
	}
	return parseRatelimit(res.Header.Get("Ratelimit"))
}

// parseRatelimit reads Cloudflare's Ratelimit header, a list of service
// limits with their remaining quota (r) and the seconds until their window
// resets (t), e.g. `"default";r=0;t=30`: the longest reset of a limit with
// nothing remaining, or 0. (Ratelimit-Policy, the quotas and windows, says
// nothing about when to come back, so it is not needed here.)
func parseRatelimit(v string) time.Duration {
	var wait time.Duration
	for _, item := range strings.Split(v, ",") {
		remaining, reset := -1, -1
		for _, param := range strings.Split(item, ";")[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(param), "=")
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				continue
			}
			switch strings.ToLower(k) {
			case "r":
				remaining = n
			case "t":
				reset = n
			}
		}
		if remaining == 0 && reset > 0 {
			wait = max(wait, time.Duration(reset)*time.Second)
		}
	}
	return wait
}
