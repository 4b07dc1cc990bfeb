package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/purge"
)

// scriptedPurger answers with a fixed result; the real purgers are tested
// in their own packages and end to end in package app.
type scriptedPurger struct {
	name  string
	err   error
	delay time.Duration
	calls atomic.Int32
}

func (p *scriptedPurger) Name() string { return p.name }

func (p *scriptedPurger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	p.calls.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return purge.Result{}, &purge.Error{Op: "purge", Message: ctx.Err().Error(), Retryable: true}
	}
	if p.err != nil {
		return purge.Result{Calls: 1}, p.err
	}
	return purge.Result{Items: req.Items(), Calls: 1}, nil
}

type scriptedKeys struct {
	err   error
	calls atomic.Int32
}

func (k *scriptedKeys) Name() string { return "redis" }

func (k *scriptedKeys) Invalidate(_ context.Context, keys, sets []string) (cache.Result, error) {
	k.calls.Add(1)
	return cache.Result{Keys: len(keys), Sets: len(sets)}, k.err
}

var samplePlan = plan.Plan{Zone: "z", URLs: []string{"https://a/", "https://a/history"}, Tags: []string{"t"}, Keys: []string{"k"}}

func TestStatuses(t *testing.T) {
	cdnErr := &purge.Error{Op: "purge 2 urls", StatusCode: 500, Codes: []int{10000}, Retryable: true}
	for _, tc := range []struct {
		name            string
		cdnErr, keysErr error
		want            string
	}{
		{"all ok", nil, nil, StatusPurged},
		{"cdn failed", cdnErr, nil, StatusPartial},
		{"redis failed", nil, errors.New("connection refused"), StatusPartial},
		{"both failed", cdnErr, errors.New("connection refused"), StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New(Config{CDN: []purge.Purger{&scriptedPurger{name: "cdn", err: tc.cdnErr}}, Keys: &scriptedKeys{err: tc.keysErr}})
			a := f.Run(context.Background(), "id1", samplePlan, false)
			if a.Status != tc.want || a.OK() != (tc.want == StatusPurged) {
				t.Errorf("status = %q, want %q", a.Status, tc.want)
			}
			if a.Results[0].Items != 3 && tc.cdnErr == nil {
				t.Errorf("cdn items = %d", a.Results[0].Items)
			}
			if tc.cdnErr != nil && (a.Results[0].ErrorCodes[0] != 10000 || !a.Results[0].Retryable || a.Results[0].Error == "") {
				t.Errorf("cdn failure not carried: %+v", a.Results[0])
			}
		})
	}
}

func TestDryRunCallsNoBackend(t *testing.T) {
	cdn, keys := &scriptedPurger{name: "cdn"}, &scriptedKeys{}
	a := New(Config{CDN: []purge.Purger{cdn}, Keys: keys}).Run(context.Background(), "id", samplePlan, true)
	if a.Status != StatusDryRun || cdn.calls.Load() != 0 || keys.calls.Load() != 0 {
		t.Errorf("dry run: status %q, cdn calls %d, redis calls %d", a.Status, cdn.calls.Load(), keys.calls.Load())
	}
	if a.Results[0].Status != BackendDryRun || a.Results[0].Items != 3 {
		t.Errorf("results %+v", a.Results)
	}
}

func TestDeadlineBoundsTheWholePurge(t *testing.T) {
	slow := &scriptedPurger{name: "cdn", delay: time.Hour}
	f := New(Config{CDN: []purge.Purger{slow}, Keys: &scriptedKeys{}, Timeout: 50 * time.Millisecond})
	done := make(chan Answer)
	go func() { done <- f.Run(context.Background(), "id", samplePlan, false) }()
	select {
	case a := <-done:
		if a.Status != StatusPartial || !a.Results[0].Retryable {
			t.Errorf("answer %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run ignored its deadline")
	}
}

func TestEmptyPartsAreNotSent(t *testing.T) {
	cdn, keys := &scriptedPurger{name: "cdn"}, &scriptedKeys{}
	a := New(Config{CDN: []purge.Purger{cdn}, Keys: keys}).Run(context.Background(), "id", plan.Plan{Keys: []string{"k"}}, false)
	if cdn.calls.Load() != 0 || keys.calls.Load() != 1 || a.Status != StatusPurged {
		t.Errorf("cdn calls %d, redis calls %d, status %q", cdn.calls.Load(), keys.calls.Load(), a.Status)
	}
}
