package registry

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/redis/go-redis/v9"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func lookup(ctx context.Context, t *testing.T, reg *Registry, id string) (Page, bool) {
	t.Helper()
	page, found, err := reg.Lookup(ctx, id)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", id, err)
	}
	return page, found
}

func TestPutThenLookup(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)

	err := reg.Put(ctx, Page{ID: "p0", Hosts: []string{" P0.Status.Example.com ", "", "status.acme.io", "p0.status.example.com", "  "}, Zone: "zone-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := client.HGetAll(ctx, p+"p0").Val(); !reflect.DeepEqual(got, map[string]string{
		"hosts": "p0.status.example.com,status.acme.io", "zone": "zone-1",
	}) {
		t.Errorf("stored hash = %v", got)
	}

	page, found := lookup(ctx, t, reg, "p0")
	want := Page{ID: "p0", Hosts: []string{"p0.status.example.com", "status.acme.io"}, Zone: "zone-1"}
	if !found || !reflect.DeepEqual(page, want) {
		t.Errorf("Lookup = %+v, %v; want %+v, true", page, found, want)
	}
}

func TestLookupEntryWrittenByCoreApp(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	client.HSet(ctx, p+"p1", "hosts", " Status.Acme.IO, ,p1.status.example.com,status.acme.io,", "zone", " z9 ", "owner", "core")

	page, found := lookup(ctx, t, New(client, p), "p1")
	want := Page{ID: "p1", Hosts: []string{"status.acme.io", "p1.status.example.com"}, Zone: "z9"}
	if !found || !reflect.DeepEqual(page, want) {
		t.Errorf("Lookup = %+v, %v; want %+v, true", page, found, want)
	}
}

func TestLookupNotFound(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	client.HSet(ctx, p+"zone-only", "zone", "z1")
	client.HSet(ctx, p+"empty-hosts", "hosts", " , ,", "zone", "z1")
	reg := New(client, p)

	for _, id := range []string{"missing", "zone-only", "empty-hosts"} {
		if page, found := lookup(ctx, t, reg, id); found || !reflect.DeepEqual(page, Page{}) {
			t.Errorf("Lookup(%q) = %+v, %v; want zero Page, false", id, page, found)
		}
	}
}

func TestPutReplacesHostsAndZoneKeepsOtherFields(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)
	client.HSet(ctx, p+"p2", "hosts", "old.example.com", "zone", "z-old", "owner", "core")

	if err := reg.Put(ctx, Page{ID: "p2", Hosts: []string{"new.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if got := client.HGetAll(ctx, p+"p2").Val(); !reflect.DeepEqual(got, map[string]string{
		"hosts": "new.example.com", "owner": "core",
	}) {
		t.Errorf("stored hash = %v; want hosts replaced, zone removed, owner kept", got)
	}
	page, found := lookup(ctx, t, reg, "p2")
	if want := (Page{ID: "p2", Hosts: []string{"new.example.com"}}); !found || !reflect.DeepEqual(page, want) {
		t.Errorf("Lookup = %+v, %v; want %+v, true", page, found, want)
	}
}

func TestPutRejectsIncompletePages(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	reg := New(client, p)

	for _, tc := range []struct {
		page Page
		want string
	}{
		{Page{Hosts: []string{"a.example.com"}}, "put page: empty page id"},
		{Page{ID: "p3", Hosts: []string{" ", ""}}, `put page "p3": no hostname`},
		{Page{ID: "p3"}, `put page "p3": no hostname`},
	} {
		if err := reg.Put(ctx, tc.page); err == nil || err.Error() != tc.want {
			t.Errorf("Put(%+v) error = %v, want %q", tc.page, err, tc.want)
		}
	}
	if n := client.Exists(ctx, p+"p3", p).Val(); n != 0 {
		t.Errorf("%d entries written by rejected Puts, want 0", n)
	}
}

func TestDefaultPrefix(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	id := strings.TrimSuffix(redistest.Prefix(t), ":") // unique per run
	key := DefaultPrefix + id
	t.Cleanup(func() { client.Unlink(context.Background(), key) })

	if err := New(client, "").Put(ctx, Page{ID: id, Hosts: []string{"a.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if got := client.HGet(ctx, key, "hosts").Val(); got != "a.example.com" {
		t.Errorf("HGET %s hosts = %q, want a.example.com", key, got)
	}
}

func TestRedisFailureIsAnError(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	client.Set(ctx, p+"p4", "not a hash", 0)

	_, found, err := New(client, p).Lookup(ctx, "p4")
	if err == nil || found || !strings.HasPrefix(err.Error(), `look up page "p4": WRONGTYPE`) {
		t.Errorf("Lookup of a non-hash = found %v, error %v; want an error starting with look up page \"p4\": WRONGTYPE", found, err)
	}

	srv := redistest.StartServer(t)
	down := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	srv.Stop()
	reg := New(down, p)
	if _, found, err := reg.Lookup(ctx, "p5"); err == nil || found || !strings.HasPrefix(err.Error(), `look up page "p5": `) {
		t.Errorf("Lookup with Redis down = found %v, error %v; want a look-up error", found, err)
	}
	if err := reg.Put(ctx, Page{ID: "p5", Hosts: []string{"a.example.com"}}); err == nil || !strings.HasPrefix(err.Error(), `put page "p5": `) {
		t.Errorf("Put with Redis down = %v; want a put error", err)
	}
}

func TestNormalizeHosts(t *testing.T) {
	got := NormalizeHosts([]string{" B.example.com", "a.example.com", "", "b.EXAMPLE.com ", "\ta.example.com\n", " "})
	want := []string{"b.example.com", "a.example.com"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NormalizeHosts = %q, want %q", got, want)
	}
	if got := NormalizeHosts(nil); got != nil {
		t.Errorf("NormalizeHosts(nil) = %q, want nil", got)
	}
}

// TestLookupBoundedByItsContext: on the auto-pipelined client the service
// uses, a look-up gives up when its context ends, even with Redis stalled
// (go-redis's blocking face would wait for the stall to end).
func TestLookupBoundedByItsContext(t *testing.T) {
	srv := redistest.StartServer(t)
	admin := redistest.ClientOf(t, srv.Addr())
	ap, err := redistest.ClientOf(t, srv.Addr()).AsyncAutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	r := New(ap, "stall:")
	ctx := context.Background()
	if _, _, err := r.Lookup(ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "2500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = r.Lookup(ctx, "p1")
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 1500*time.Millisecond {
		t.Fatalf("look-up with Redis paused: %v after %v, want the context's deadline", err, took)
	}
}
