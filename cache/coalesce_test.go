package cache

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func TestCoalescerUnlinksKeysAndSets(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	c := NewCoalescer(rdb)
	key, set, member, other := prefix+"k", prefix+"set", prefix+"member", prefix+"other"
	for _, k := range []string{key, member, other} {
		rdb.Set(ctx, k, "v", 0)
	}
	rdb.SAdd(ctx, set, member)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if res, err := c.Invalidate(ctx, []string{key}, []string{set}); err != nil || res.Keys != 1 || res.Sets != 1 {
				t.Errorf("%+v %v", res, err)
			}
		})
	}
	wg.Wait()
	if n := rdb.Exists(ctx, key, set, member).Val(); n != 0 {
		t.Errorf("%d keys left", n)
	}
	if rdb.Exists(ctx, other).Val() != 1 {
		t.Error("an unrelated key was removed")
	}
}

func TestCoalescerManyDistinctKeys(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	c := NewCoalescer(rdb)
	var wg sync.WaitGroup
	for i := range 200 {
		k := fmt.Sprintf("%sk%d", prefix, i)
		rdb.Set(ctx, k, "v", 0)
		wg.Go(func() {
			if _, err := c.Invalidate(ctx, []string{k}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if keys := rdb.Keys(ctx, prefix+"k*").Val(); len(keys) != 0 {
		t.Errorf("%d keys left", len(keys))
	}
}
