package varnish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// nodeOutcome is one node's part: its result, and each call's error (nil
// when the node accepted the call).
type nodeOutcome struct {
	result purge.NodeResult
	errs   []*purge.Error
}

// purgeNode sends every call to one node, up to maxConcurrentPerNode at a
// time. When a call gets no answer at all (refused, reset, timed out), the
// node is taken as down and its remaining calls are not sent, so a dead
// node costs one timeout, not one per call.
func (p *Purger) purgeNode(ctx context.Context, node *url.URL, calls []call) nodeOutcome {
	start := time.Now()
	nodeCtx, nodeDown := context.WithCancelCause(ctx)
	defer nodeDown(nil)
	errs := make([]*purge.Error, len(calls))
	made := make([]bool, len(calls))
	slots := make(chan struct{}, maxConcurrentPerNode)
	var wg sync.WaitGroup
	for i, c := range calls {
		if c.invalid != "" {
			errs[i] = &purge.Error{Op: c.op, Message: c.invalid}
			continue
		}
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-nodeCtx.Done():
				errs[i] = notSent(nodeCtx, c)
				return
			}
			if nodeCtx.Err() != nil {
				errs[i] = notSent(nodeCtx, c)
				return
			}
			made[i] = true
			var answered bool
			errs[i], answered = p.send(nodeCtx, node, c)
			switch {
			case answered || ctx.Err() != nil:
			case nodeCtx.Err() != nil:
				// Cut short because another call found the node down.
				errs[i] = notSent(nodeCtx, c)
			default:
				nodeDown(fmt.Errorf("node unreachable: %s", errs[i].Message))
			}
		})
	}
	wg.Wait()

	o := nodeOutcome{errs: errs, result: purge.NodeResult{Node: node.String()}}
	var failed []*purge.Error
	for i, c := range calls {
		if made[i] {
			o.result.Calls++
		}
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		o.result.Items += c.items
	}
	o.result.Duration = time.Since(start)
	if len(failed) > 0 {
		o.result.Err = nodeError(node.String(), len(calls), failed)
	}
	return o
}

// notSent is the error of a call skipped because the node went down or the
// deadline passed.
func notSent(ctx context.Context, c call) *purge.Error {
	msg := "not sent: " + ctx.Err().Error()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, ctx.Err()) {
		msg = "not sent: " + cause.Error()
	}
	return &purge.Error{Op: c.op, Message: msg, Retryable: true}
}

// send makes one call. answered is false when no HTTP answer arrived.
func (p *Purger) send(ctx context.Context, node *url.URL, c call) (err *purge.Error, answered bool) {
	target := *node
	path, query, _ := strings.Cut(c.target, "?")
	target.Path, target.RawQuery = path, query
	if unescaped, uerr := url.PathUnescape(path); uerr == nil {
		target.Path, target.RawPath = unescaped, path
	}
	req, rerr := http.NewRequestWithContext(ctx, c.method, target.String(), nil)
	if rerr != nil {
		return &purge.Error{Op: c.op, Message: rerr.Error()}, true
	}
	if c.host != "" {
		req.Host = c.host
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "edgepurge")
	resp, derr := p.client.Do(req)
	if derr != nil {
		// Not the url.Error's text, which repeats the method and URL.
		var ue *url.Error
		if errors.As(derr, &ue) {
			derr = ue.Err
		}
		return &purge.Error{Op: c.op, Message: derr.Error(), Retryable: true}, false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil, true
	}
	return &purge.Error{
		Op:         c.op,
		StatusCode: resp.StatusCode,
		// Varnish's synth reason ("Not allowed") is the status line's text.
		Message:   strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode))),
		Retryable: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500,
	}, true
}

// nodeError folds one node's failed calls into one *purge.Error that names
// the node, how many calls failed and the first failure.
func nodeError(node string, total int, failed []*purge.Error) *purge.Error {
	first := failed[0]
	out := &purge.Error{
		Op:         fmt.Sprintf("node %s: %d of %d calls failed, first %s", node, len(failed), total, first.Op),
		StatusCode: first.StatusCode,
		Message:    first.Message,
		Retryable:  true,
	}
	for _, f := range failed {
		out.Retryable = out.Retryable && f.Retryable
	}
	return out
}
