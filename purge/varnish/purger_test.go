package varnish

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// seen is one request a fake node received, in a comparable form.
type seen struct {
	Method, Host, URI, Headers string
}

// fakeNode records what it receives and answers status (200 by default).
type fakeNode struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	status   atomic.Int32
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	delay    time.Duration
}

func newFakeNode(t *testing.T) *fakeNode {
	n := &fakeNode{}
	n.status.Store(200)
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := n.inFlight.Add(1)
		defer n.inFlight.Add(-1)
		for {
			m := n.maxSeen.Load()
			if cur <= m || n.maxSeen.CompareAndSwap(m, cur) {
				break
			}
		}
		time.Sleep(n.delay)
		var hs []string
		for _, k := range []string{HeaderXkey, HeaderXkeySoftPurge, HeaderBanHost, HeaderBanPrefix, HeaderBanAll} {
			if v := r.Header.Get(k); v != "" {
				hs = append(hs, k+": "+v)
			}
		}
		n.mu.Lock()
		n.requests = append(n.requests, seen{r.Method, r.Host, r.RequestURI, strings.Join(hs, "; ")})
		n.mu.Unlock()
		code := int(n.status.Load())
		w.WriteHeader(code)
	}))
	t.Cleanup(n.Close)
	return n
}

func (n *fakeNode) seen() []seen {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := slices.Clone(n.requests)
	slices.SortFunc(out, func(a, b seen) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

func sortSeen(s []seen) []seen {
	slices.SortFunc(s, func(a, b seen) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return s
}

func newPurger(t *testing.T, cfg Config) *Purger {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRequestsOnTheWire(t *testing.T) {
	node := newFakeNode(t)
	p := newPurger(t, Config{Nodes: []string{node.URL}})
	nodeHost := strings.TrimPrefix(node.URL, "http://")
	req := purge.Request{
		URLs: []string{
			"https://a.test/incidents/i1",
			"http://a.test/incidents/i1", // the same object in Varnish: one PURGE
			"https://B.Test/",
			"https://a.test/api/v2/summary.json?x=1&y=%2F",
			"https://a.test/caf%C3%A9",
		},
		Tags:       []string{"page:p0", "incident:i1"},
		Hosts:      []string{"a.test"},
		Prefixes:   []string{"b.test/api/v2/"},
		Everything: true,
	}
	res, nodes, err := p.PurgeNodes(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := sortSeen([]seen{
		{"PURGE", "a.test", "/incidents/i1", ""},
		{"PURGE", "b.test", "/", ""},
		{"PURGE", "a.test", "/api/v2/summary.json?x=1&y=%2F", ""},
		{"PURGE", "a.test", "/caf%C3%A9", ""},
		{"PURGE", nodeHost, "/", "xkey: page:p0 incident:i1"},
		{"BAN", nodeHost, "/", "X-Ban-Host: a.test"},
		{"BAN", nodeHost, "/", "X-Ban-Host: b.test; X-Ban-Prefix: /api/v2/"},
		{"BAN", nodeHost, "/", "X-Ban-All: true"},
	})
	if got := node.seen(); !slices.Equal(got, want) {
		t.Errorf("requests:\n got %+v\nwant %+v", got, want)
	}
	if res != (purge.Result{Items: req.Items(), Calls: 8}) || len(nodes) != 1 {
		t.Errorf("result = %+v on %d nodes, want %d items in 8 calls on 1 node", res, len(nodes), req.Items())
	}
	n := nodes[0]
	if n.Node != node.URL || n.Items != 10 || n.Calls != 8 || n.Err != nil || n.Duration <= 0 {
		t.Errorf("node result = %+v", n)
	}
}

func TestSoftPurgeTags(t *testing.T) {
	node := newFakeNode(t)
	p := newPurger(t, Config{Nodes: []string{node.URL}, SoftPurge: true})
	if _, err := p.Purge(context.Background(), purge.Request{Tags: []string{"page:p0"}}); err != nil {
		t.Fatal(err)
	}
	if got := node.seen(); len(got) != 1 || got[0].Headers != "xkey-softpurge: page:p0" || got[0].Method != "PURGE" {
		t.Errorf("requests %+v", got)
	}
}

func TestManyTagsAreSplitAcrossHeaders(t *testing.T) {
	node := newFakeNode(t)
	p := newPurger(t, Config{Nodes: []string{node.URL}})
	var tags []string
	for i := range 300 {
		tags = append(tags, fmt.Sprintf("component:c%04d", i)) // 15 bytes + separator
	}
	res, err := p.Purge(context.Background(), purge.Request{Tags: tags})
	if err != nil || res.Items != 300 {
		t.Fatalf("items %d, err %v", res.Items, err)
	}
	var sent []string
	for _, s := range node.seen() {
		v := strings.TrimPrefix(s.Headers, "xkey: ")
		if len(v) > maxXkeyHeaderBytes {
			t.Errorf("an xkey header of %d bytes", len(v))
		}
		sent = append(sent, strings.Fields(v)...)
	}
	slices.Sort(sent)
	if !slices.Equal(sent, tags) || res.Calls != 3 {
		t.Errorf("%d tags in %d calls, want all 300 in 3", len(sent), res.Calls)
	}
}

func TestEveryNodeGetsEverything(t *testing.T) {
	a, b := newFakeNode(t), newFakeNode(t)
	p := newPurger(t, Config{Nodes: []string{a.URL, b.URL + "/"}})
	res, nodes, err := p.PurgeNodes(context.Background(), purge.Request{URLs: []string{"https://a.test/"}, Tags: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.seen()) != 2 || len(b.seen()) != 2 || res.Items != 2 || res.Calls != 4 {
		t.Errorf("node a %d, node b %d requests; result %+v", len(a.seen()), len(b.seen()), res)
	}
	if nodes[0].Node != a.URL || nodes[1].Node != b.URL {
		t.Errorf("nodes %q, %q", nodes[0].Node, nodes[1].Node)
	}
}

// deadAddress is a port nothing listens on.
func deadAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestANodeDownFailsOnlyItsPart(t *testing.T) {
	up := newFakeNode(t)
	down := deadAddress(t)
	p := newPurger(t, Config{Nodes: []string{up.URL, down}})
	var urls []string
	for i := range 20 {
		urls = append(urls, fmt.Sprintf("https://a.test/p%d", i))
	}
	res, nodes, err := p.PurgeNodes(context.Background(), purge.Request{URLs: urls, Tags: []string{"page:p0"}})
	pe := purge.AsError(err)
	if pe == nil {
		t.Fatalf("err = %v, want a *purge.Error", err)
	}
	if !strings.HasPrefix(pe.Error(), "purge varnish: 1 of 2 nodes failed: node "+down+": 21 of 21 calls failed, first ") ||
		!strings.Contains(pe.Error(), "connection refused") || !pe.Retryable {
		t.Errorf("error = %q (retryable %v)", pe.Error(), pe.Retryable)
	}
	ok, failed := nodes[0], nodes[1]
	if ok.Node != up.URL || ok.Err != nil || ok.Items != 21 || ok.Calls != 21 || len(up.seen()) != 21 {
		t.Errorf("the node that is up: %+v, %d requests", ok, len(up.seen()))
	}
	if failed.Node != down || failed.Err == nil || failed.Items != 0 {
		t.Errorf("the node that is down: %+v", failed)
	}
	// Once the node is known down, its remaining calls are not made.
	if failed.Calls >= 21 {
		t.Errorf("all %d calls were made to a node that refused the first", failed.Calls)
	}
	if res.Items != 0 {
		t.Errorf("items = %d: nothing was purged on every node", res.Items)
	}
}

func TestUnsendableItemsFailAlone(t *testing.T) {
	node := newFakeNode(t)
	p := newPurger(t, Config{Nodes: []string{node.URL}})
	res, err := p.Purge(context.Background(), purge.Request{
		URLs: []string{"https://a.test/ok", "/relative"},
		Tags: []string{"good", "has space", "a,b"},
	})
	if err == nil || res.Items != 2 {
		t.Fatalf("items %d, err %v", res.Items, err)
	}
	if len(node.seen()) != 2 {
		t.Errorf("sent %+v", node.seen())
	}
	if !strings.Contains(err.Error(), "3 of 5 calls failed, first PURGE /relative: not an absolute http(s) URL") {
		t.Errorf("error %q", err)
	}
}

func TestConcurrencyPerNodeIsBounded(t *testing.T) {
	node := newFakeNode(t)
	node.delay = 20 * time.Millisecond
	p := newPurger(t, Config{Nodes: []string{node.URL}})
	var urls []string
	for i := range 60 {
		urls = append(urls, fmt.Sprintf("https://a.test/p%d", i))
	}
	if _, err := p.Purge(context.Background(), purge.Request{URLs: urls}); err != nil {
		t.Fatal(err)
	}
	if m := node.maxSeen.Load(); m > maxConcurrentPerNode || m < 1 {
		t.Errorf("up to %d requests in flight, limit %d", m, maxConcurrentPerNode)
	}
}

func TestAHangingNodeTimesOut(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	p := newPurger(t, Config{Nodes: []string{hang.URL}, Timeout: 200 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := p.Purge(context.Background(), purge.Request{URLs: []string{"https://a.test/1", "https://a.test/2"}})
		done <- err
	}()
	select {
	case err := <-done:
		if pe := purge.AsError(err); pe == nil || !pe.Retryable || !strings.Contains(err.Error(), "Timeout") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a hanging node held the purge past its timeout")
	}
}

func TestNewRejectsBadNodes(t *testing.T) {
	for _, n := range []string{"", "127.0.0.1:6081", "ftp://x", "http://x/path", "http://x?q"} {
		if _, err := New(Config{Nodes: []string{n}}); err == nil {
			t.Errorf("node %q accepted", n)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no nodes accepted")
	}
}
