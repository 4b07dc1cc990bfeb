// Package wrap builds, in one place, the wrappers a CDN purger runs
// behind. A purge passes through them top to bottom:
//
//	breaker  fails fast while the CDN keeps failing, then lets one purge
//	         probe it (package purge/breaker)
//	queue    coalesces concurrent events' items, batches them up to the
//	         CDN's per-call limit, waits for the account's shared rate
//	         budget (package purge/ratelimit) and puts a transiently failed
//	         batch back at the head of its queue (package purge/queue)
//	calls    tells the backend's record each call that reached the CDN,
//	         per zone, service or node (package internal/health's Target)
//	CDN      the API client (packages purge/cloudflare, purge/varnish)
//
// Every layer is optional; each stops at the event's deadline.
package wrap

import (
	"context"
	"errors"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/queue"
)

// Layers says which wrappers a CDN purger gets. A nil layer is left out;
// each layer's Next is set by Build.
type Layers struct {
	Breaker *breaker.Config
	Queue   *queue.Config
	// Calls, when set, is told about every call that reached the CDN
	// client: its target (the request's zone, or a node of a
	// purge.NodePurger), the request and err, nil when the target
	// accepted it. Purges that never reached the CDN (refused by the
	// breaker, or left waiting for the budget) are not calls.
	Calls func(target string, req purge.Request, err error)
}

// Wrapped is a CDN purger behind its wrappers.
type Wrapped struct {
	// Purger is the outermost layer: purge through it.
	Purger purge.Purger
	// Breaker is the circuit breaker, nil when the stack has none.
	Breaker *breaker.Breaker
	// Queue is the coalescing queue, nil when the stack has none.
	Queue *queue.Purger
}

// Build wraps cdn in the layers, in the order of the package comment.
func Build(cdn purge.Purger, l Layers) Wrapped {
	// Built from the inside out, so the code reads bottom to top.
	p := cdn
	if l.Calls != nil {
		p = observed{next: cdn, calls: l.Calls}
		if np, ok := cdn.(purge.NodePurger); ok {
			p = observedNodes{np, l.Calls}
		}
	}
	var q *queue.Purger
	if l.Queue != nil {
		c := *l.Queue
		c.Next = p
		q = queue.New(c)
		p = q
	}
	s := Wrapped{Purger: p, Queue: q}
	if l.Breaker != nil {
		c := *l.Breaker
		c.Next = p
		s.Breaker = breaker.New(c)
		s.Purger = s.Breaker
	}
	return s
}

// observed is the calls layer (Layers.Calls).
type observed struct {
	next  purge.Purger
	calls func(target string, req purge.Request, err error)
}

func (o observed) Name() string { return o.next.Name() }

func (o observed) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	res, err := o.next.Purge(ctx, req)
	if !req.Empty() && (res.Calls > 0 || !unsent(ctx, err)) {
		o.calls(req.Zone, req, err)
	}
	return res, err
}

// observedNodes is the calls layer of a purge.NodePurger: one call per
// node, and still a NodePurger, so that answers show each node.
type observedNodes struct {
	next  purge.NodePurger
	calls func(target string, req purge.Request, err error)
}

func (o observedNodes) Name() string { return o.next.Name() }

func (o observedNodes) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	res, _, err := o.PurgeNodes(ctx, req)
	return res, err
}

func (o observedNodes) PurgeNodes(ctx context.Context, req purge.Request) (purge.Result, []purge.NodeResult, error) {
	res, nodes, err := o.next.PurgeNodes(ctx, req)
	for _, n := range nodes {
		if n.Calls > 0 || !unsent(ctx, n.Err) {
			o.calls(n.Node, req, n.Err)
		}
	}
	return res, nodes, err
}

// unsent reports whether err is a purge that never reached the CDN: its
// items waited past the deadline, or the context ended first.
func unsent(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if pe := purge.AsError(err); pe != nil && pe.Unsent {
		return true
	}
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err()))
}
