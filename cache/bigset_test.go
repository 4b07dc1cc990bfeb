package cache

import (
	"fmt"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// A tag set of 200,000 members is read in SSCAN chunks, never in one
// SMEMBERS, and every member is gone when Invalidate returns.
func TestHugeTagSetIsReadInChunksAndEmptied(t *testing.T) {
	ctx := testContext(t)
	client, rec := recordedClient(t)
	p := redistest.Prefix(t) // unlinked when the test ends
	set := p + "tag:page"
	const n = 200_000
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("%sfragment:%06d", p, i)
	}
	for i := 0; i < n; i += 1000 {
		pipe := client.Pipeline()
		batch := members[i:min(i+1000, n)]
		for _, m := range batch {
			pipe.Set(ctx, m, "v", 0)
		}
		pipe.SAdd(ctx, set, toArgs(batch)...)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rec.mu.Lock()
	rec.cmds = nil
	rec.mu.Unlock()

	res, err := New(client).Invalidate(ctx, nil, []string{set})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Invalidation{Sets: 1, Members: n, Removed: n + 1}); res != want {
		t.Errorf("Invalidation = %+v, want %+v", res, want)
	}
	if got := len(rec.named("smembers")); got != 0 {
		t.Errorf("%d SMEMBERS sent", got)
	}
	if got := len(rec.named("sscan")); got < n/scanCount/2 {
		t.Errorf("%d SSCAN calls for %d members: not chunked", got, n)
	}
	left := 0
	for i := 0; i < n; i += 1000 {
		c, err := client.Exists(ctx, members[i:min(i+1000, n)]...).Result()
		if err != nil {
			t.Fatal(err)
		}
		left += int(c)
	}
	if left != 0 || client.Exists(ctx, set).Val() != 0 {
		t.Errorf("%d members (and the set: %d) left", left, client.Exists(ctx, set).Val())
	}
}
