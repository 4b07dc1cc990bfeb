package varnish

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/purgetest"
	"github.com/edgepurge/edgepurge/test/standin"
	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/edgepurge/edgepurge/test/testkit/varnishtest"
)

// perCall: a URL, a host and a prefix are a request each; tags fill an
// xkey header by bytes, not by count.
var perCall = map[purgetest.Kind]int{purgetest.URLs: 1, purgetest.Hosts: 1, purgetest.Prefixes: 1}

// lacks are what no Varnish target has.
var lacks = map[purgetest.Capability]string{
	purgetest.Zones:      "Varnish has no zones: every node gets every request",
	purgetest.RetryAfter: "the reference VCL never answers 429 and Varnish has no budget to pause, so the purger does not read Retry-After",
}

// TestConformance runs the contract against a stand-in node that records
// what it receives and can be made to fail, hang or go down.
func TestConformance(t *testing.T) { purgetest.Run(t, nodeHarness{}) }

// nodeHarness builds each case's purger against a fresh stand-in node.
type nodeHarness struct{}

func (nodeHarness) Capabilities() purgetest.Capabilities {
	l := map[purgetest.Capability]string{purgetest.Credentials: "Varnish has no credentials; the purgers ACL is tested against a real varnishd (TestConformanceVarnishd)"}
	for c, why := range lacks {
		l[c] = why
	}
	return purgetest.Capabilities{Kinds: purgetest.AllKinds, PerCall: perCall, Lacks: l}
}

func (nodeHarness) Target(t *testing.T) *purgetest.Target {
	core := standin.New[purgetest.Call, purgetest.Failure, string](standin.Config[purgetest.Call]{
		Name:    "varnish node",
		Arrived: func(purgetest.Call) time.Time { return time.Time{} },
		Status:  func(c purgetest.Call) int { return c.Status },
	})
	base, err := core.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := nodeCall(r)
		core.Hold(r, call)
		call.Status = http.StatusOK
		if f, failed := core.Failure(); failed {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", standin.RetryAfter(f.RetryAfter))
			}
			call.Status = f.Status
		}
		w.WriteHeader(call.Status)
		core.Record(call)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(core.Close)
	return &purgetest.Target{
		Purger:  newPurger(t, Config{Nodes: []string{base}}),
		Calls:   core.Calls,
		Fail:    func(f purgetest.Failure) { core.SetFailure(f, f.Count) },
		Hang:    func() { core.Hang(true) },
		Waiting: core.Waiting,
		Down:    core.Close,
	}
}

// nodeCall reads a request as the reference VCL would.
func nodeCall(r *http.Request) purgetest.Call {
	h := r.Header
	switch {
	case h.Get(HeaderXkey) != "" || h.Get(HeaderXkeySoftPurge) != "":
		return purgetest.Call{Kind: purgetest.Tags, Items: strings.Fields(h.Get(HeaderXkey) + " " + h.Get(HeaderXkeySoftPurge))}
	case r.Method == MethodPurge:
		return purgetest.Call{Kind: purgetest.URLs, Items: []string{r.Host + r.URL.RequestURI()}}
	case h.Get(HeaderBanAll) == "true":
		return purgetest.Call{Kind: purgetest.Everything, Items: []string{"*"}}
	case h.Get(HeaderBanPrefix) != "":
		return purgetest.Call{Kind: purgetest.Prefixes, Items: []string{h.Get(HeaderBanHost) + h.Get(HeaderBanPrefix)}}
	default:
		return purgetest.Call{Kind: purgetest.Hosts, Items: []string{h.Get(HeaderBanHost)}}
	}
}

// TestConformanceVarnishd runs the contract against a real varnishd with
// the reference VCL; a second one, whose purgers ACL leaves the test out,
// plays the refused credential.
func TestConformanceVarnishd(t *testing.T) {
	integration.Need(t, "varnishd with the xkey vmod")
	origin := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(origin.Close)
	purgetest.Run(t, &varnishdHarness{parent: t, origin: strings.TrimPrefix(origin.URL, "http://")})
}

// varnishdHarness shares its varnishds between the cases: each costs a
// VCL compile to start.
type varnishdHarness struct {
	parent         *testing.T
	origin         string
	once, denyOnce sync.Once
	open, deny     *varnishtest.Varnish
}

func (h *varnishdHarness) Capabilities() purgetest.Capabilities {
	l := map[purgetest.Capability]string{
		purgetest.Record: "varnishd keeps no log this test reads; the stand-in node records (TestConformance)",
		purgetest.Fail:   "a real varnishd is not made to fail on demand; the stand-in node is (TestConformance)",
		purgetest.Hang:   "a real varnishd is not made to hang; the stand-in node is (TestConformance)",
		purgetest.Down:   "the varnishd is shared by the cases; the stand-in node goes down (TestConformance)",
	}
	for c, why := range lacks {
		l[c] = why
	}
	return purgetest.Capabilities{Kinds: purgetest.AllKinds, PerCall: perCall, Lacks: l}
}

func (h *varnishdHarness) Target(t *testing.T) *purgetest.Target {
	h.once.Do(func() { h.open = varnishtest.Start(h.parent, varnishtest.Options{Origin: h.origin}) })
	return &purgetest.Target{
		Purger: newPurger(t, Config{Nodes: []string{h.open.URL()}}),
		BadCredential: func(t *testing.T) purge.Purger {
			h.denyOnce.Do(func() {
				h.deny = varnishtest.Start(h.parent, varnishtest.Options{Origin: h.origin, ACL: []string{`"192.0.2.1"`}})
			})
			return newPurger(t, Config{Nodes: []string{h.deny.URL()}})
		},
	}
}
