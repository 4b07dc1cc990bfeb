package cloudflare

import (
	"context"
	"slices"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestNameAndConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a token: no error")
	}
	p, err := New(Config{APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "cloudflare" || p.maxURLs != 100 || p.maxItems != 100 {
		t.Errorf("name %q maxURLs %d maxItems %d", p.Name(), p.maxURLs, p.maxItems)
	}
}

func TestSeventyURLsFitOneCallAtLimit100(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	want := urls(70)

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: want})

	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if res != (purge.Result{Items: 70, Calls: 1}) {
		t.Errorf("result = %+v, want 70 items in 1 call", res)
	}
	calls := stub.PurgeCalls()
	if len(calls) != 1 || calls[0].Kind != cfstub.KindFiles || !slices.Equal(calls[0].Items, want) {
		t.Fatalf("stub saw %+v", calls)
	}
	if got := stub.URLsPurged(testZone); !slices.Equal(got, want) {
		t.Errorf("purged %d urls, want the 70", len(got))
	}
}

func TestSeventyURLsAreThreeCallsAtLimit30(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{MaxItemsPerCall: 30})
	p := newPurger(t, base, Config{MaxURLsPerCall: 30})
	want := urls(70)

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: want})

	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if res != (purge.Result{Items: 70, Calls: 3}) {
		t.Errorf("result = %+v, want 70 items in 3 calls", res)
	}
	calls := stub.PurgeCalls()
	items, sizes := itemsOf(calls, cfstub.KindFiles)
	if len(calls) != 3 || !slices.Equal(sizes, []int{10, 30, 30}) {
		t.Errorf("stub saw %d calls of sizes %v, want 3 of [10 30 30]", len(calls), sizes)
	}
	slices.Sort(items)
	if !slices.Equal(items, want) {
		t.Errorf("stub saw urls %v, want exactly the 70", items)
	}
	if got := stub.URLsPurged(testZone); !slices.Equal(got, want) {
		t.Errorf("purged %d urls, want the 70", len(got))
	}
}

func TestEachKindGoesInItsOwnCalls(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{MaxItemsPerCall: 2})
	req := purge.Request{
		Zone:       testZone,
		URLs:       []string{"https://s.example/", "https://s.example/history"},
		Tags:       []string{"page:1", "incident:2", "component:3"},
		Hosts:      []string{"s.example", "status.acme.test"},
		Prefixes:   []string{"s.example/api/v2"},
		Everything: true,
	}

	res, err := p.Purge(context.Background(), req)

	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if res != (purge.Result{Items: 9, Calls: 6}) {
		t.Errorf("result = %+v, want 9 items in 6 calls", res)
	}
	tests := []struct {
		kind      string
		wantItems []string
		wantSizes []int
	}{
		{cfstub.KindFiles, req.URLs, []int{2}},
		{cfstub.KindTags, req.Tags, []int{1, 2}},
		{cfstub.KindHosts, req.Hosts, []int{2}},
		{cfstub.KindPrefixes, req.Prefixes, []int{1}},
		{cfstub.KindEverything, []string{cfstub.EverythingItem}, []int{1}},
	}
	calls := stub.PurgeCalls()
	for _, tt := range tests {
		items, sizes := itemsOf(calls, tt.kind)
		slices.Sort(items)
		want := slices.Sorted(slices.Values(tt.wantItems))
		if !slices.Equal(items, want) || !slices.Equal(sizes, tt.wantSizes) {
			t.Errorf("%s: stub saw %v in calls of %v, want %v in %v", tt.kind, items, sizes, want, tt.wantSizes)
		}
		if got := len(stub.Purged(testZone, tt.kind)); got != len(tt.wantItems) {
			t.Errorf("%s: %d purged, want %d", tt.kind, got, len(tt.wantItems))
		}
	}
	for _, c := range calls {
		if c.Status != 200 {
			t.Errorf("call %+v not accepted", c)
		}
	}
}

func TestEmptyRequestMakesNoCall(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testZone})

	if err != nil || res != (purge.Result{}) || len(stub.Calls()) != 0 {
		t.Errorf("result %+v err %v calls %d, want nothing", res, err, len(stub.Calls()))
	}
}

func TestRequestWithoutZoneIsRefused(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Tags: []string{"a"}})

	pe := purgeError(t, err)
	if pe.Retryable || pe.Error() != "purge cloudflare: request has no zone" {
		t.Errorf("err = %q retryable %v", pe.Error(), pe.Retryable)
	}
	if len(stub.Calls()) != 0 {
		t.Error("a call was made")
	}
}
