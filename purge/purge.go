// Package purge defines what a CDN purger is: one interface that every CDN
// backend (Cloudflare, Varnish, ...) implements, the request it is given and
// the error it returns when a purge does not go through.
package purge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Request is the CDN part of a plan: what to evict from one zone.
type Request struct {
	// Zone identifies the CDN zone (for Cloudflare, the zone ID).
	Zone string
	// URLs are absolute URLs purged one by one ("single-file purge").
	URLs []string
	// Tags are cache tags (Cloudflare Cache-Tag, Varnish xkey).
	Tags []string
	// Hosts purge every object of a hostname.
	Hosts []string
	// Prefixes purge every object under a host+path prefix, without scheme.
	Prefixes []string
	// Everything purges the whole zone.
	Everything bool
	// Cover, when not nil, purges every URL of the request at once; a
	// coalescing queue may purge it instead of the URLs when the URL budget
	// is the bottleneck (see package purge/queue). Purgers without a queue
	// ignore it and purge the URLs.
	Cover *Cover
	// Soft asks the CDNs that can (Fastly, Varnish's xkey) to mark the
	// objects stale instead of evicting them, so that stale-while-
	// revalidate spares the origin; the others purge as usual.
	Soft bool
	// Ref names the work this request is part of, the event and the chain's
	// step ("<event id>/<backend>"), the same on every re-drive of it: a
	// CDN whose purges are asynchronous (CloudFront) finds by it what an
	// earlier attempt started, instead of starting it again. Empty when the
	// caller has no such identity (a probe, a test).
	Ref string
}

// Cover is what stands for all of a request's URLs: cache tags and/or
// hostnames.
type Cover struct {
	Tags  []string
	Hosts []string
}

// Items is the number of things the request asks to purge; purging
// everything counts as one item.
func (r Request) Items() int {
	n := len(r.URLs) + len(r.Tags) + len(r.Hosts) + len(r.Prefixes)
	if r.Everything {
		n++
	}
	return n
}

// Empty reports whether the request asks for nothing.
func (r Request) Empty() bool { return r.Items() == 0 }

// Result says what a purger did for one request, whether or not it succeeded.
type Result struct {
	// Items is how many of the request's items the CDN accepted (a URL
	// purged by the cover counts as accepted).
	Items int
	// Calls is how many API calls were made.
	Calls int
	// Escalation, when not empty, says the URLs were purged by the cover,
	// and why.
	Escalation string
}

// NodePurger is a Purger of several cache nodes (Varnish) that can say
// what each node did. Callers that want the detail use PurgeNodes when a
// Purger has it; Result stays comparable.
type NodePurger interface {
	Purger
	// PurgeNodes is Purge, with each node's part in configuration order.
	PurgeNodes(ctx context.Context, req Request) (Result, []NodeResult, error)
}

// NodeResult is what one cache node did with a request.
type NodeResult struct {
	// Node names the node (its base URL).
	Node string
	// Items is how many of the request's items the node accepted.
	Items int
	// Calls is how many requests were sent to the node.
	Calls int
	// Duration is the node's whole part.
	Duration time.Duration
	// Err is the node's failure, nil when it accepted everything.
	Err error
}

// Purger evicts objects from one CDN.
type Purger interface {
	// Name is the backend's name in answers, logs and metrics ("cloudflare").
	Name() string
	// Purge sends the request to the CDN and returns once the CDN accepted or
	// refused every part of it. On failure the returned error is, or wraps, an
	// *Error; the Result still counts what was accepted before the failure.
	Purge(ctx context.Context, req Request) (Result, error)
}

// Error is a purge call the CDN refused or that could not reach it.
type Error struct {
	// Op is what was being done, e.g. "purge 70 urls".
	Op string
	// StatusCode is the HTTP status of the CDN's answer; 0 if none arrived.
	StatusCode int
	// Codes are the CDN's own error codes (Cloudflare's errors[].code).
	Codes []int
	// Message is the CDN's explanation, free of credentials.
	Message string
	// Retryable says whether the same call may succeed later (network
	// errors, timeouts, 5xx, 429) as opposed to a permanent refusal (bad zone,
	// bad token, bad request).
	Retryable bool
	// RetryAfter is the CDN's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Unsent says the CDN never received the items: the deadline passed
	// while they waited for a call slot or rate budget.
	Unsent bool
	// Pending says the CDN accepted the work but had not finished it when
	// the deadline came (a CloudFront invalidation still InProgress): the
	// purge is retryable, a re-drive waits for the same work, and the CDN
	// is not failing.
	Pending bool
	// Permission, when the CDN refused the call because the credential
	// lacks a permission, names that permission as the operator would add
	// it (Cloudflare "Zone → Cache Purge → Purge", "Zone → Zone → Read";
	// Fastly scopes "purge_select", "purge_all", "global:read"); empty
	// otherwise, a wrong or unknown credential included, so that a missing
	// grant is told apart from a bad token.
	Permission string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	for i, c := range e.Codes {
		if i == 0 {
			b.WriteString(": code ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", c)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Permission != "" && !strings.Contains(e.Message, e.Permission) {
		fmt.Fprintf(&b, " (missing permission: %s)", e.Permission)
	}
	return b.String()
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}
