package plan

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
)

// mutableRegistry is a registry whose answers a test changes between events.
type mutableRegistry struct {
	mu    sync.Mutex
	hosts map[string][]string
	err   error
}

func (m *mutableRegistry) Lookup(_ context.Context, id string) ([]string, string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, "", false, m.err
	}
	h, ok := m.hosts[id]
	return h, "", ok, nil
}

func (m *mutableRegistry) set(id string, hosts []string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hosts[id], m.err = hosts, err
}

// A plan from the cache is the plan computed afresh, for every kind of
// event, the second time and the third.
func TestCachedPlanIsThePlan(t *testing.T) {
	events := []event.Event{
		{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i1"},
		{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i2"},
		{Type: event.ComponentUpdated, PageID: "p0", ComponentIDs: []string{"c1", "c2"}},
		{Type: event.ComponentUpdated, PageID: "p0", ComponentIDs: []string{"c1"}},
		{Type: event.MaintenanceStarted, PageID: "p0", IncidentID: "m1"},
		{Type: event.PageUpdated, PageID: "p0"},
		{Type: event.IncidentUpdated, PageID: "other", IncidentID: "i1"},
		{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i1", URLs: []string{"https://x.test/a"}},
	}
	cfg := twoHostConfig()
	cfg.Defaults = &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}}
	cached := newPlanner(t, cfg, nil)
	for round := range 3 {
		for _, ev := range events {
			fresh, err := newPlanner(t, cfg, nil).Plan(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cached.Plan(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, fresh) {
				t.Errorf("round %d, %+v:\ncached %+v\n fresh %+v", round, ev, got, fresh)
			}
		}
	}
}

// A page whose registry entry changes is planned on its new hosts; a plan
// made while the registry was down (incomplete) is not kept.
func TestCacheFollowsTheRegistry(t *testing.T) {
	cfg := &config.Config{
		Cloudflare: config.Cloudflare{ZoneID: "z"},
		Limits:     config.Limits{MaxPlanURLs: 2000},
		Defaults:   &config.PageRule{Hosts: []string{"{page_id}.status.example.com"}},
	}
	reg := &mutableRegistry{hosts: map[string][]string{"reg1": {"old.custom.test"}}}
	p := newPlanner(t, cfg, reg)
	ev := event.Event{Type: event.IncidentUpdated, PageID: "reg1", IncidentID: "i1"}
	plan := func() Plan {
		t.Helper()
		pl, err := p.Plan(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	if u := plan().URLs[0]; u != "https://old.custom.test/" {
		t.Fatalf("first plan: %s", u)
	}
	reg.set("reg1", []string{"new.custom.test"}, nil)
	if u := plan().URLs[0]; u != "https://new.custom.test/" {
		t.Errorf("after the registry changed: %s; want the new host", u)
	}
	reg.set("reg1", nil, errors.New("down"))
	if pl := plan(); !pl.Incomplete {
		t.Fatalf("registry down: complete plan %+v", pl)
	}
	reg.set("reg1", []string{"new.custom.test"}, nil)
	if pl := plan(); pl.Incomplete || pl.URLs[0] != "https://new.custom.test/" {
		t.Errorf("registry back: %+v; want the complete plan, not the one made while it was down", pl)
	}
}

// Events sharing a cached plan cannot change each other's: appending to
// one's lists copies them (run with -race).
func TestCachedPlansAreNotShared(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	ev := event.Event{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i1"}
	want, _ := p.Plan(context.Background(), ev)
	n := len(want.URLs)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				pl, err := p.Plan(context.Background(), ev)
				if err != nil {
					t.Error(err)
					return
				}
				pl.URLs = append(pl.URLs, "https://mine.test/"+string(rune('a'+i)))
				pl.Keys = append(pl.Keys, "mine")
			}
		})
	}
	wg.Wait()
	got, _ := p.Plan(context.Background(), ev)
	if len(got.URLs) != n || !reflect.DeepEqual(got, want) {
		t.Errorf("the cached plan changed: %d URLs, want %d", len(got.URLs), n)
	}
}

// The cache stays bounded however many distinct events come.
func TestCacheIsBounded(t *testing.T) {
	p := newPlanner(t, twoHostConfig(), nil)
	for i := range planCacheSize + 10 {
		ev := event.Event{Type: event.IncidentUpdated, PageID: "p0", IncidentID: "i" + itoa(i)}
		if _, err := p.Plan(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	p.cache.mu.RLock()
	defer p.cache.mu.RUnlock()
	if n := len(p.cache.plans); n > planCacheSize || n == 0 {
		t.Errorf("%d plans kept; want 1..%d", n, planCacheSize)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
