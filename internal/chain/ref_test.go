package chain

import (
	"context"
	"sync"
	"testing"

	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
)

// refPurger records the Ref of every request.
type refPurger struct {
	name string
	mu   sync.Mutex
	refs []string
}

func (p *refPurger) Name() string { return p.name }

func (p *refPurger) Purge(_ context.Context, req purge.Request) (purge.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refs = append(p.refs, req.Ref)
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

// Each CDN request names the event and the step, and a re-drive of the
// event (RunOn, with the event's id) names the same: what an asynchronous
// CDN finds its earlier work by.
func TestRequestsCarryTheEventAndStep(t *testing.T) {
	a, b := &refPurger{name: "alpha"}, &refPurger{name: "beta"}
	c := New(Config{CDN: []purge.Purger{a, b}})
	p := plan.Plan{URLs: []string{"https://status.example.com/"}}
	c.Run(context.Background(), "evt_1", &p, false, new(Answer))
	c.RunOn(context.Background(), []string{"beta"}, "evt_1", &p, new(Answer))
	if len(a.refs) != 1 || a.refs[0] != "evt_1/alpha" {
		t.Errorf("alpha's refs %q, want [evt_1/alpha]", a.refs)
	}
	if len(b.refs) != 2 || b.refs[0] != "evt_1/beta" || b.refs[1] != "evt_1/beta" {
		t.Errorf("beta's refs %q, want evt_1/beta twice (run and re-drive)", b.refs)
	}
}
