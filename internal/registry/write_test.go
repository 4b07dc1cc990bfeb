package registry

import (
	"errors"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"reflect"
	"testing"
)

func TestApplyVersionsEveryChangeAndChecksIfMatch(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)

	out, err := reg.Apply(ctx, []Change{{Page: Page{ID: "a", Hosts: []string{"A.example.com", "b.example.com"}, Zone: "z1"}}})
	if err != nil || out[0].Result != ResultCreated || out[0].Before.Hosts != nil {
		t.Fatalf("create: %+v %v", out, err)
	}
	created := out[0].ETag
	e, found, err := reg.Get(ctx, "a")
	if err != nil || !found || e.ETag != created || e.Version != 1 || !reflect.DeepEqual(e.Hosts, []string{"a.example.com", "b.example.com"}) {
		t.Fatalf("Get after create = %+v %v %v; want the script's ETag %q and version 1", e, found, err, created)
	}

	// The same entry again: nothing written, the same ETag.
	out, err = reg.Apply(ctx, []Change{{Page: Page{ID: "a", Hosts: []string{"a.example.com", "b.example.com"}, Zone: "z1"}, IfMatch: created}})
	if err != nil || out[0].Result != ResultUnchanged || out[0].ETag != created {
		t.Fatalf("same entry again: %+v %v", out, err)
	}

	out, err = reg.Apply(ctx, []Change{{Page: Page{ID: "a", Hosts: []string{"c.example.com"}}, IfMatch: created}})
	if err != nil || out[0].Result != ResultUpdated || out[0].ETag == created || !reflect.DeepEqual(out[0].Before.Hosts, []string{"a.example.com", "b.example.com"}) || out[0].Before.Zone != "z1" {
		t.Fatalf("update: %+v %v", out, err)
	}
	updated := out[0].ETag

	// A writer still holding the first ETag is refused, and nothing changes.
	_, err = reg.Apply(ctx, []Change{{Page: Page{ID: "a", Hosts: []string{"d.example.com"}}, IfMatch: created}})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.ETag != updated || conflict.ID != "a" {
		t.Fatalf("stale If-Match: %v; want a conflict naming the ETag %q", err, updated)
	}
	if got := client.HGetAll(ctx, p+"a").Val(); !reflect.DeepEqual(got, map[string]string{"hosts": "c.example.com", "version": "2"}) {
		t.Errorf("after the conflict: %v", got)
	}

	// If-Match on no entry fails, "*" too.
	for _, m := range []string{"*", updated} {
		if _, err := reg.Apply(ctx, []Change{{Page: Page{ID: "none", Hosts: []string{"x.example.com"}}, IfMatch: m}}); !errors.As(err, &conflict) || conflict.ETag != "" {
			t.Errorf("If-Match %q on no entry: %v", m, err)
		}
	}

	out, err = reg.Apply(ctx, []Change{{Page: Page{ID: "a"}, Delete: true, IfMatch: updated}, {Page: Page{ID: "gone"}, Delete: true}})
	if err != nil || out[0].Result != ResultDeleted || out[1].Result != ResultAbsent || out[0].ETag != "" {
		t.Fatalf("delete: %+v %v", out, err)
	}
	if n := client.Exists(ctx, p+"a").Val(); n != 0 {
		t.Error("the deleted entry is still there")
	}
}

func TestApplyAllOrNothingAndKeepsOtherFields(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)
	client.HSet(ctx, p+"legacy", "hosts", " Status.Acme.IO, ,x.example.com", "zone", " z9 ", "owner", "core")

	e, found, err := reg.Get(ctx, "legacy")
	if err != nil || !found || e.Version != 0 || e.ETag == "" || e.Zone != "z9" {
		t.Fatalf("Get of the core app's entry = %+v %v %v", e, found, err)
	}
	// The ETag computed in Go is the script's: a change with it goes through.
	_, err = reg.Apply(ctx, []Change{
		{Page: Page{ID: "new1", Hosts: []string{"n.example.com"}}},
		{Page: Page{ID: "legacy", Hosts: []string{"y.example.com"}}, IfMatch: "0-000000000000"},
	})
	if !errors.As(err, new(*ConflictError)) {
		t.Fatalf("a bulk with one stale ETag: %v", err)
	}
	if n := client.Exists(ctx, p+"new1").Val(); n != 0 {
		t.Error("a refused bulk wrote its first entry")
	}
	out, err := reg.Apply(ctx, []Change{
		{Page: Page{ID: "new1", Hosts: []string{"n.example.com"}}},
		{Page: Page{ID: "legacy", Hosts: []string{"y.example.com"}}, IfMatch: e.ETag},
	})
	if err != nil || out[0].Result != ResultCreated || out[1].Result != ResultUpdated {
		t.Fatalf("bulk: %+v %v", out, err)
	}
	if got := client.HGetAll(ctx, p+"legacy").Val(); !reflect.DeepEqual(got, map[string]string{"hosts": "y.example.com", "owner": "core", "version": "1"}) {
		t.Errorf("legacy entry after the write: %v", got)
	}
}

func TestListPagesThroughWithACursorAndAFilter(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)
	want := map[string]bool{}
	for i := range 450 {
		id := "p" + string(rune('a'+i%26)) + itoa(i)
		client.HSet(ctx, p+id, "hosts", id+".example.com")
		want[id] = true
	}
	client.Set(ctx, p+"notahash", "x", 0)
	client.HSet(ctx, p+"zoneonly", "zone", "z1")
	got := map[string]bool{}
	cursor, calls := "", 0
	for {
		list, next, err := reg.List(ctx, cursor, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, e := range list {
			got[e.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !reflect.DeepEqual(got, want) || calls < 2 {
		t.Errorf("listed %d of %d entries in %d calls", len(got), len(want), calls)
	}
	list, _, err := reg.List(ctx, "", 1000, func(e Entry) bool { return e.Hosts[0] == "pa0.example.com" })
	if err != nil || len(list) != 1 || list[0].ID != "pa0" {
		t.Errorf("filtered: %+v %v", list, err)
	}
	if _, _, err := reg.List(ctx, "nope", 10, nil); !errors.As(err, new(*CursorError)) {
		t.Errorf("a made-up cursor: %v", err)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
