package chain

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// orderRecorder notes the order in which purgers are called.
type orderRecorder struct {
	mu    sync.Mutex
	names []string
}

type recordingPurger struct {
	name string
	rec  *orderRecorder
}

func (p recordingPurger) Name() string { return p.name }

func (p recordingPurger) Purge(_ context.Context, req purge.Request) (purge.Result, error) {
	p.rec.mu.Lock()
	p.rec.names = append(p.rec.names, p.name)
	p.rec.mu.Unlock()
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

func TestPlanOrdersTheCDNs(t *testing.T) {
	for _, tc := range []struct {
		order []string
		want  []string
	}{
		{nil, []string{"varnish", "cloudflare", "fastly"}},
		{[]string{"cloudflare", "varnish"}, []string{"cloudflare", "varnish", "fastly"}},
		{[]string{"fastly"}, []string{"fastly", "varnish", "cloudflare"}},
		{[]string{"unknown", "cloudflare"}, []string{"cloudflare", "varnish", "fastly"}},
	} {
		rec := &orderRecorder{}
		f := New(Config{CDN: []purge.Purger{
			recordingPurger{"varnish", rec}, recordingPurger{"cloudflare", rec}, recordingPurger{"fastly", rec},
		}})
		p := samplePlan
		p.CDNOrder = tc.order
		a := run(f, context.Background(), "id", p, false)
		var answered []string
		for _, r := range a.Results {
			answered = append(answered, r.Backend)
		}
		if !slices.Equal(rec.names, tc.want) || !slices.Equal(answered, tc.want) {
			t.Errorf("order %q: called %q, answered %q, want %q", tc.order, rec.names, answered, tc.want)
		}
		dry := run(f, context.Background(), "id", p, true)
		if dry.Results[0].Backend != tc.want[0] {
			t.Errorf("dry run order %q: first %q", tc.order, dry.Results[0].Backend)
		}
	}
}

// nodesPurger reports two nodes, the second failed.
type nodesPurger struct{}

func (nodesPurger) Name() string { return "varnish" }

func (p nodesPurger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	res, _, err := p.PurgeNodes(ctx, req)
	return res, err
}

func (nodesPurger) PurgeNodes(context.Context, purge.Request) (purge.Result, []purge.NodeResult, error) {
	return purge.Result{Items: 0, Calls: 4}, []purge.NodeResult{
			{Node: "http://a:6081", Items: 3, Calls: 2, Duration: 1500 * time.Microsecond},
			{Node: "http://b:6081", Calls: 2, Err: errors.New("node http://b:6081: down")},
		}, &purge.Error{
			Op: "purge varnish: 1 of 2 nodes failed", Message: "node http://b:6081: down", Retryable: true,
		}
}

func TestNodesAreInTheAnswer(t *testing.T) {
	a := run(New(Config{CDN: []purge.Purger{nodesPurger{}}}), context.Background(), "id", samplePlan, false)
	r := a.Results[0]
	want := []NodeResult{
		{Node: "http://a:6081", Status: BackendOK, Items: 3, Calls: 2, DurationMS: 1.5},
		{Node: "http://b:6081", Status: BackendFailed, Calls: 2, Error: "node http://b:6081: down"},
	}
	if a.Status != StatusFailed || r.Status != BackendFailed || !r.Retryable || !slices.Equal(r.Nodes, want) {
		t.Errorf("answer %+v", a)
	}
}
