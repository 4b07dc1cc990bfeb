package journal

import (
	"slices"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/plan"
)

var samplePlan = plan.Plan{Page: "p0", Zone: "z", URLs: []string{"https://a/"}, Tags: []string{"t"},
	Hosts: []string{"h"}, Keys: []string{"k"}, KeySets: []string{"s"}, CDNOrder: []string{"varnish", "cloudflare"}}

func TestUnfinishedKeepsOnlyTheFailedBackendsParts(t *testing.T) {
	at := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	ok := chain.BackendResult{Backend: "redis", Status: chain.BackendOK}
	cf500 := chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Error: "HTTP 500", Retryable: true}
	unsent := chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Error: "not sent", Unsent: true}
	redisDown := chain.BackendResult{Backend: "redis", Status: chain.BackendFailed, Error: "connection refused", Retryable: true}
	cf403 := chain.BackendResult{Backend: "cloudflare", Status: chain.BackendFailed, Error: "HTTP 403", ErrorCodes: []int{10000}}

	e, got := Unfinished("hook", chain.Answer{ID: "m1", Plan: samplePlan, Results: []chain.BackendResult{cf500, ok}}, "redis", at)
	if !got || !slices.Equal(e.Backends, []string{"cloudflare"}) || !slices.Equal(e.URLs, []string{"https://a/"}) ||
		!slices.Equal(e.Hosts, []string{"h"}) || e.Keys != nil || e.KeySets != nil || e.EventID != "m1" || e.Source != "hook" ||
		e.Page != "p0" || e.Zone != "z" || !e.FirstFailure.Equal(at) || e.Attempts != 1 || e.Error != "cloudflare: HTTP 500" || e.Items() != 3 {
		t.Errorf("CDN failed: %v %+v", got, e)
	}
	e, got = Unfinished("hook", chain.Answer{ID: "m2", Plan: samplePlan, Results: []chain.BackendResult{{Backend: "cloudflare", Status: "ok"}, redisDown}}, "redis", at)
	if !got || !slices.Equal(e.Backends, []string{"redis"}) || e.URLs != nil || !slices.Equal(e.Keys, []string{"k"}) ||
		!slices.Equal(e.KeySets, []string{"s"}) || e.Items() != 2 {
		t.Errorf("Redis failed: %v %+v", got, e)
	}
	e, got = Unfinished("manual", chain.Answer{ID: "m3", Plan: samplePlan, Results: []chain.BackendResult{unsent, redisDown}}, "redis", at)
	if !got || !slices.Equal(e.Backends, []string{"cloudflare", "redis"}) || e.Items() != 5 ||
		e.Error != "cloudflare: not sent; redis: connection refused" {
		t.Errorf("both failed: %v %+v", got, e)
	}
	if p := e.Plan(); !slices.Equal(p.CDNOrder, samplePlan.CDNOrder) || !slices.Equal(p.Keys, []string{"k"}) || p.Zone != "z" {
		t.Errorf("plan of the entry: %+v", p)
	}
	if _, got := Unfinished("hook", chain.Answer{Plan: samplePlan, Results: []chain.BackendResult{cf403, redisDown}}, "redis", at); got {
		t.Error("a permanent refusal was journaled")
	}
	if _, got := Unfinished("hook", chain.Answer{Plan: samplePlan, Results: []chain.BackendResult{{Backend: "cloudflare", Status: "ok"}, ok}}, "redis", at); got {
		t.Error("a complete purge was journaled")
	}
}
