// Package stack builds, in one place, the wrappers a CDN purger runs
// behind. A purge passes through them top to bottom:
//
//	breaker  fails fast while the CDN keeps failing, then lets one purge
//	         probe it (package purge/breaker)
//	queue    coalesces concurrent events' items, batches them up to the
//	         CDN's per-call limit, waits for the account's shared rate
//	         budget (package purge/ratelimit) and puts a transiently failed
//	         batch back at the head of its queue (package purge/queue)
//	retry    instead of the queue when coalescing is off: retries a
//	         transient failure with backoff (package purge/retry)
//	CDN      the API client (packages purge/cloudflare, purge/varnish)
//
// Every layer is optional; each stops at the event's deadline.
package stack

import (
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/queue"
	"github.com/edgepurge/edgepurge/purge/retry"
)

// Layers says which wrappers a CDN purger gets. A nil layer is left out;
// each layer's Next is set by Build.
type Layers struct {
	Breaker *breaker.Config
	Queue   *queue.Config
	// Retry is used only when Queue is nil: the queue retries by itself.
	Retry *retry.Config
}

// Stack is a CDN purger behind its wrappers.
type Stack struct {
	// Purger is the outermost layer: purge through it.
	Purger purge.Purger
	// Breaker is the circuit breaker, nil when the stack has none.
	Breaker *breaker.Breaker
}

// Build wraps cdn in the layers, in the order of the package comment.
func Build(cdn purge.Purger, l Layers) Stack {
	// Built from the inside out, so the code reads bottom to top.
	p := cdn
	switch {
	case l.Queue != nil:
		c := *l.Queue
		c.Next = p
		p = queue.New(c)
	case l.Retry != nil:
		c := *l.Retry
		c.Next = p
		p = retry.New(c)
	}
	s := Stack{Purger: p}
	if l.Breaker != nil {
		c := *l.Breaker
		c.Next = p
		s.Breaker = breaker.New(c)
		s.Purger = s.Breaker
	}
	return s
}
