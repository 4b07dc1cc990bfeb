// Package varnish purges Varnish caches run by the page's owner: every
// configured node at once, with the requests the reference VCL
// (examples/varnish/default.vcl) understands: PURGE per URL, an xkey purge
// for tags, and BANs for hosts, prefixes and everything.
package varnish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// maxConcurrentPerNode bounds the requests in flight to one node, so a large
// plan finishes in a few round trips without flooding the cache.
const maxConcurrentPerNode = 8

// Purger is the Varnish purge.Purger. It is safe for concurrent use.
type Purger struct {
	nodes     []*url.URL
	softPurge bool
	client    *http.Client
}

var _ purge.NodePurger = (*Purger)(nil)

// New returns a Purger for cfg.
func New(cfg Config) (*Purger, error) {
	if len(cfg.Nodes) == 0 {
		return nil, errors.New("varnish: no nodes")
	}
	p := &Purger{softPurge: cfg.SoftPurge, client: cfg.HTTPClient}
	for _, n := range cfg.Nodes {
		u, err := ParseNode(n)
		if err != nil {
			return nil, fmt.Errorf("varnish: %w", err)
		}
		p.nodes = append(p.nodes, u)
	}
	if p.client == nil {
		p.client = newClient(cfg.Timeout)
	}
	return p, nil
}

// ParseNode checks a node's base URL: http or https, a host, no path
// beyond "/", no query.
func ParseNode(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(s), "/"))
	if err != nil {
		return nil, fmt.Errorf("node %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("node %q: want http(s)://host:port", s)
	}
	return u, nil
}

// newClient is the purger's own client: bounded requests, no redirects
// (a redirected PURGE would purge nothing), connections kept per node.
func newClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: min(timeout, 2*time.Second), KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   maxConcurrentPerNode,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: timeout,
			TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Name implements purge.Purger.
func (p *Purger) Name() string { return "varnish" }

// Purge implements purge.Purger; see PurgeNodes.
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	res, _, err := p.PurgeNodes(ctx, req)
	return res, err
}

// PurgeNodes implements purge.NodePurger. Every node gets every call, all
// nodes at once; an item counts as purged when every node accepted it. A
// node that fails fails only its own part: the node results show each
// node, and the *purge.Error says how many nodes failed and why.
func (p *Purger) PurgeNodes(ctx context.Context, req purge.Request) (purge.Result, []purge.NodeResult, error) {
	if req.Empty() {
		return purge.Result{}, nil, nil
	}
	calls := p.plan(req)
	outcomes := make([]nodeOutcome, len(p.nodes))
	var wg sync.WaitGroup
	for i, n := range p.nodes {
		wg.Go(func() { outcomes[i] = p.purgeNode(ctx, n, calls) })
	}
	wg.Wait()

	var res purge.Result
	nodes := make([]purge.NodeResult, len(p.nodes))
	for i, o := range outcomes {
		nodes[i] = o.result
		res.Calls += o.result.Calls
	}
	for c := range calls {
		if everyNodeAccepted(outcomes, c) {
			res.Items += calls[c].items
		}
	}
	return res, nodes, combineNodes(nodes)
}

func everyNodeAccepted(outcomes []nodeOutcome, call int) bool {
	for _, o := range outcomes {
		if o.errs[call] != nil {
			return false
		}
	}
	return true
}

// combineNodes folds the failed nodes into one *purge.Error naming each of
// them, or returns nil when every node succeeded. It is retryable only if
// every node's failure is.
func combineNodes(nodes []purge.NodeResult) error {
	var msgs []string
	retryable := true
	for _, n := range nodes {
		if n.Err == nil {
			continue
		}
		msgs = append(msgs, n.Err.Error())
		pe := purge.AsError(n.Err)
		retryable = retryable && pe != nil && pe.Retryable
	}
	if len(msgs) == 0 {
		return nil
	}
	return &purge.Error{
		Op:        fmt.Sprintf("purge varnish: %d of %d nodes failed", len(msgs), len(nodes)),
		Message:   strings.Join(msgs, "; "),
		Retryable: retryable,
	}
}
