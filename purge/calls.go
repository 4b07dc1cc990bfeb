package purge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// RunCalls makes the n API calls of one purge, in order and at most limit
// at once, each even when another failed: send makes call i and says how
// many of its items the CDN accepted. A call whose turn comes after ctx
// ended is not sent; its error is NotSent(ctx, op(i)). The Result counts
// the calls made and the items accepted; errs[i] is call i's failure, nil
// when it succeeded.
func RunCalls(ctx context.Context, n, limit int, op func(i int) string, send func(ctx context.Context, i int) (int, *Error)) (Result, []*Error) {
	accepted := make([]int, n)
	errs := make([]*Error, n)
	made := make([]bool, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(limit, 1), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if ctx.Err() != nil {
					errs[i] = NotSent(ctx, op(i))
					continue
				}
				made[i] = true
				accepted[i], errs[i] = send(ctx, i)
			}
		})
	}
	wg.Wait()
	var res Result
	for i := range n {
		if made[i] {
			res.Calls++
		}
		res.Items += accepted[i]
	}
	return res, errs
}

// NotSent is the error of the call op that was not sent because ctx ended
// first: retryable, Unsent, with the context's cause when it has one.
func NotSent(ctx context.Context, op string) *Error {
	why := ctx.Err().Error()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, ctx.Err()) {
		why = cause.Error()
	}
	return &Error{Op: op, Message: "not sent: " + why, Retryable: true, Unsent: true}
}

// maxShown bounds the failures Combine spells out after the first, so
// that a purge of hundreds of calls does not make an error of as many.
const maxShown = 3

// Combine folds the failed calls of one purge into one *Error, nil when
// none failed; errs[i] is call i's failure (nil: it succeeded), op(i)
// names call i, and what names the purge, e.g. "purge zone Z". A lone
// failure is returned as it is. Otherwise the error has the first
// failure's status and message, up to maxShown more failures in full and
// how many others there were, every failure's codes once each, the
// longest RetryAfter, the first missing Permission any failure names; it
// is Retryable only if every failure is (retrying cannot get past a
// permanent refusal), Unsent only if no failed call was sent, and
// Pending only if every failed call is.
func Combine(what string, errs []*Error, op func(i int) string) *Error {
	var failed []int
	for i, e := range errs {
		if e != nil {
			failed = append(failed, i)
		}
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return errs[failed[0]]
	}
	first := errs[failed[0]]
	out := &Error{
		Op:         fmt.Sprintf("%s: %d of %d calls failed, first %s", what, len(failed), len(errs), op(failed[0])),
		StatusCode: first.StatusCode,
		Retryable:  true,
		Unsent:     true,
		Pending:    true,
	}
	msgs := []string{first.Message}
	for n, i := range failed {
		f := errs[i]
		if out.Permission == "" {
			out.Permission = f.Permission
		}
		for _, c := range f.Codes {
			if !slices.Contains(out.Codes, c) {
				out.Codes = append(out.Codes, c)
			}
		}
		out.Retryable = out.Retryable && f.Retryable
		out.Unsent = out.Unsent && f.Unsent
		out.Pending = out.Pending && f.Pending
		out.RetryAfter = max(out.RetryAfter, f.RetryAfter)
		if n > 0 && n <= maxShown {
			other := *f
			other.Op = op(i)
			msgs = append(msgs, "then "+other.Error())
		}
	}
	if rest := len(failed) - 1 - maxShown; rest > 0 {
		msgs = append(msgs, fmt.Sprintf("and %d more failures", rest))
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}

// RetryableStatus says whether a CDN API answer with this status may
// succeed later: 408, 429 and 5xx.
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// ParseRetryAfter reads a Retry-After header, seconds or an HTTP date, as
// a wait from now; 0 when absent, unreadable or not in the future.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(secs)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// Redact removes token from msg, should any error text carry it.
func Redact(msg, token string) string {
	if token == "" {
		return msg
	}
	return strings.ReplaceAll(msg, token, "[token]")
}

// MaxMessage bounds the CDN text an Error's Message carries: an answer's
// body may be a whole HTML page.
const MaxMessage = 512

// Clip shortens s to MaxMessage bytes, on a rune boundary.
func Clip(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Unanswered is the retryable *Error of an HTTP call that got no answer:
// a network error, a timeout or the caller's deadline. Its message is
// free of each of secrets.
func Unanswered(ctx context.Context, op string, err error, secrets ...string) *Error {
	pe := &Error{Op: op, Retryable: true}
	var ue *url.Error
	switch {
	case ctx.Err() != nil:
		pe.Message = ctx.Err().Error()
	case errors.As(err, &ue):
		// The Op names the call; the URL would only repeat it.
		pe.Message = ue.Err.Error()
	default:
		pe.Message = err.Error()
	}
	for _, s := range secrets {
		pe.Message = Redact(pe.Message, s)
	}
	return pe
}
