package varnish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
// time; a call with an invalid item is never sent. When a call gets no
// answer at all (refused, reset, timed out), the node is taken as down and
// its remaining calls are not sent, so a dead node costs one timeout, not
// one per call.
func (p *Purger) purgeNode(ctx context.Context, node *url.URL, calls []call) nodeOutcome {
	start := time.Now()
	nodeCtx, nodeDown := context.WithCancelCause(ctx)
	defer nodeDown(nil)
	errs := make([]*purge.Error, len(calls))
	var sendable []int // indexes of the calls without an invalid item
	for i, c := range calls {
		if c.invalid != "" {
			errs[i] = &purge.Error{Op: c.op, Message: c.invalid}
			continue
		}
		sendable = append(sendable, i)
	}
	res, sent := purge.RunCalls(nodeCtx, len(sendable), maxConcurrentPerNode, func(j int) string { return calls[sendable[j]].op },
		func(nodeCtx context.Context, j int) (int, *purge.Error) {
			c := calls[sendable[j]]
			pe, answered := p.send(nodeCtx, node, c)
			switch {
			case pe == nil:
				return c.items, nil
			case answered || ctx.Err() != nil:
			case nodeCtx.Err() != nil:
				// Cut short because another call found the node down.
				pe = purge.NotSent(nodeCtx, c.op)
			default:
				nodeDown(fmt.Errorf("node unreachable: %s", pe.Message))
			}
			return 0, pe
		})
	for j, i := range sendable {
		errs[i] = sent[j]
	}
	o := nodeOutcome{errs: errs, result: purge.NodeResult{Node: node.String(), Calls: res.Calls, Items: res.Items, Duration: time.Since(start)}}
	if pe := purge.Combine("node "+node.String(), errs, func(i int) string { return calls[i].op }); pe != nil {
		o.result.Err = pe
		if slices.Contains(errs, pe) {
			// A lone failure, as the call made it: name the node all the same.
			named := *pe
			named.Op = fmt.Sprintf("node %s: 1 of %d calls failed, first %s", node, len(calls), pe.Op)
			o.result.Err = &named
		}
	}
	return o
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
