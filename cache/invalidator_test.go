package cache

import (
	"context"
	"fmt"
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

// recordedClient is a client of the shared Redis that records its commands.
func recordedClient(t *testing.T) (redis.UniversalClient, *recorder) {
	client := redistest.Client(t)
	rec := &recorder{}
	client.AddHook(rec)
	return client, rec
}

func setKeys(ctx context.Context, t *testing.T, client redis.UniversalClient, keys ...string) {
	t.Helper()
	for _, key := range keys {
		if err := client.Set(ctx, key, "cached", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
}

func addMembers(ctx context.Context, t *testing.T, client redis.UniversalClient, set string, members ...string) {
	t.Helper()
	if err := client.SAdd(ctx, set, toArgs(members)...).Err(); err != nil {
		t.Fatalf("SADD %s: %v", set, err)
	}
}

// assertExist checks, key by key, whether each key exists.
func assertExist(ctx context.Context, t *testing.T, client redis.UniversalClient, want map[string]bool) {
	t.Helper()
	for key, wantExists := range want {
		n, err := client.Exists(ctx, key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		if got := n == 1; got != wantExists {
			t.Errorf("key %s exists = %v, want %v", key, got, wantExists)
		}
	}
}

func TestName(t *testing.T) {
	if got := New(nil).Name(); got != "redis" {
		t.Fatalf("Name() = %q, want redis", got)
	}
}

func TestInvalidateKeys(t *testing.T) {
	ctx := testContext(t)
	client, rec := recordedClient(t)
	p := redistest.Prefix(t)
	setKeys(ctx, t, client, p+"summary", p+"status", p+"summary-other", p+"keep")

	res, err := New(client).Invalidate(ctx, []string{p + "summary", p + "status", p + "missing", p + "summary"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Invalidation{Keys: 3, Removed: 2}); res != want {
		t.Errorf("Invalidation = %+v, want %+v", res, want)
	}
	assertExist(ctx, t, client, map[string]bool{
		p + "summary": false, p + "status": false,
		p + "summary-other": true, p + "keep": true,
	})
	if got := rec.named("unlink"); len(got) != 1 || len(got[0]) != 4 {
		t.Errorf("UNLINK commands = %v, want one holding the 3 distinct keys", got)
	}
	if got := rec.named("del"); len(got) != 0 {
		t.Errorf("DEL was used: %v", got)
	}
}

func TestInvalidateChunksLargeInput(t *testing.T) {
	ctx := testContext(t)
	client, rec := recordedClient(t)
	p := redistest.Prefix(t)
	keys := make([]string, 1200)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sk%d", p, i)
	}
	if err := client.MSet(ctx, flatPairs(keys)...).Err(); err != nil {
		t.Fatal(err)
	}
	rec.reset()

	res, err := New(client).Invalidate(ctx, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Invalidation{Keys: 1200, Removed: 1200}); res != want {
		t.Errorf("Invalidation = %+v, want %+v", res, want)
	}
	var sizes []int
	for _, args := range rec.named("unlink") {
		sizes = append(sizes, len(args)-1)
	}
	if fmt.Sprint(sizes) != "[512 512 176]" {
		t.Errorf("UNLINK sizes = %v, want [512 512 176]", sizes)
	}
}

func flatPairs(keys []string) []any {
	var out []any
	for _, k := range keys {
		out = append(out, k, "v")
	}
	return out
}

func TestInvalidateTagSets(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	setKeys(ctx, t, client, p+"page:a", p+"page:b", p+"inc:1", p+"other", p+"direct")
	addMembers(ctx, t, client, p+"tag:page", p+"page:a", p+"page:b", p+"gone")
	addMembers(ctx, t, client, p+"tag:inc", p+"inc:1", p+"page:a")
	addMembers(ctx, t, client, p+"tag:unrelated", p+"other")

	res, err := New(client).Invalidate(ctx,
		[]string{p + "direct", p + "tag:inc"}, // a set named among keys is handled as a set
		[]string{p + "tag:page", p + "tag:inc", p + "tag:missing"})
	if err != nil {
		t.Fatal(err)
	}
	// Members: page:a, page:b, gone, inc:1. Removed: direct, page:a,
	// page:b, inc:1 and the two existing sets.
	if want := (Invalidation{Keys: 1, Sets: 3, Members: 4, Removed: 6}); res != want {
		t.Errorf("Invalidation = %+v, want %+v", res, want)
	}
	assertExist(ctx, t, client, map[string]bool{
		p + "direct": false, p + "page:a": false, p + "page:b": false, p + "inc:1": false,
		p + "tag:page": false, p + "tag:inc": false,
		p + "other": true, p + "tag:unrelated": true,
	})
}

// A member added to a tag set after its members were read stays in the set,
// so the next purge finds it.
func TestTrimKeepsMembersAddedMeanwhile(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	inv := New(client)
	set := p + "tag:page"
	addMembers(ctx, t, client, set, p+"a", p+"b")

	members, err := inv.readMembers(ctx, []string{set})
	if err != nil {
		t.Fatal(err)
	}
	addMembers(ctx, t, client, set, p+"late")
	gone, err := inv.trimSets(ctx, []string{set}, members)
	if err != nil {
		t.Fatal(err)
	}
	if gone != 0 {
		t.Errorf("trimSets reported %d sets gone, want 0", gone)
	}
	left, err := client.SMembers(ctx, set).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != p+"late" {
		t.Errorf("set members after trim = %v, want [%slate]", left, p)
	}
}

func TestInvalidateEmptyInputMakesNoCall(t *testing.T) {
	ctx := testContext(t)
	client, rec := recordedClient(t)
	for _, in := range [][2][]string{{nil, nil}, {{}, {}}} {
		res, err := New(client).Invalidate(ctx, in[0], in[1])
		if err != nil || res != (Invalidation{}) {
			t.Errorf("Invalidate(%v, %v) = %+v, %v; want zero Invalidation, nil", in[0], in[1], res, err)
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d commands sent for empty input, want 0", n)
	}
}

func TestInvalidateWrongTypeSetTouchesNothing(t *testing.T) {
	ctx := testContext(t)
	client := redistest.Client(t)
	p := redistest.Prefix(t)
	setKeys(ctx, t, client, p+"key", p+"not-a-set")

	res, err := New(client).Invalidate(ctx, []string{p + "key"}, []string{p + "not-a-set"})
	if err == nil || !strings.HasPrefix(err.Error(), "read 1 tag sets: WRONGTYPE") {
		t.Fatalf("error = %v, want one starting with \"read 1 tag sets: WRONGTYPE\"", err)
	}
	if want := (Invalidation{Keys: 1, Sets: 1}); res != want {
		t.Errorf("Invalidation = %+v, want %+v", res, want)
	}
	assertExist(ctx, t, client, map[string]bool{p + "key": true, p + "not-a-set": true})
}

func TestInvalidateRedisDown(t *testing.T) {
	srv := redistest.StartServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	srv.Stop()

	// go-redis's defaults retry a refused dial for seconds (MaxRetries 3 x
	// DialerRetries 5); the context deadline must cut that short. The slack
	// only absorbs a slow machine.
	const deadline, slack = time.Second, 4 * time.Second
	for _, tc := range []struct {
		keys, sets []string
		op         string
	}{
		{keys: []string{"a", "b"}, op: "unlink 2 keys: "},
		{keys: []string{"a"}, sets: []string{"tag"}, op: "read 1 tag sets: "},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		_, err := New(client).Invalidate(ctx, tc.keys, tc.sets)
		elapsed := time.Since(start)
		t.Logf("error after %s: %v", elapsed, err)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), tc.op) {
			t.Errorf("Invalidate(%v, %v) error = %v, want one starting with %q", tc.keys, tc.sets, err, tc.op)
		}
		if elapsed >= deadline+slack {
			t.Errorf("Invalidate took %s, well past the context deadline of %s", elapsed, deadline)
		}
	}
}
