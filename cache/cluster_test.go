package cache

import (
	"fmt"
	"testing"

	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/redis/go-redis/v9"
)

func TestCluster(t *testing.T) {
	ctx := testContext(t)
	addrs := redistest.StartCluster(t, 3)
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cluster.Close() })

	t.Run("keySlot matches CLUSTER KEYSLOT", func(t *testing.T) {
		keys := []string{"", "{", "}", "{}", "{}x", "x{}", "{{}}", "a{b}c", "a{{b}}c", "{a}{b}", "a}b{c}",
			"statuspage:{p0}:summary", "ünïcödé", "with space", "tag:page:p0"}
		for i := len(keys); i < 50; i++ {
			keys = append(keys, fmt.Sprintf("statuspage:p%d:summary", i))
		}
		for _, key := range keys {
			want, err := cluster.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
			}
			if got := keySlot(key); int64(got) != want {
				t.Errorf("keySlot(%q) = %d, CLUSTER KEYSLOT says %d", key, got, want)
			}
		}
	})

	t.Run("Invalidate across slots", func(t *testing.T) {
		rec := &recorder{}
		cluster.AddHook(rec)

		var keys []string
		for i := range 30 { // spread over many slots and all three masters
			keys = append(keys, fmt.Sprintf("statuspage:p%d:summary", i))
		}
		tagged := []string{"{page:p0}:summary", "{page:p0}:status", "{page:p0}:history"} // one slot
		members := []string{"statuspage:p0:incident:1", "statuspage:p0:uptime", "{page:p0}:embed"}
		setKeys(ctx, t, cluster, keys...)
		setKeys(ctx, t, cluster, tagged...)
		setKeys(ctx, t, cluster, members...)
		setKeys(ctx, t, cluster, "statuspage:keep", "{page:p0}:keep")
		addMembers(ctx, t, cluster, "tag:{p0}", members...) // members in other slots than the set
		rec.reset()

		asked := append(append([]string{}, keys...), tagged...)
		asked = append(asked, "statuspage:missing")
		res, err := New(cluster).Invalidate(ctx, asked, []string{"tag:{p0}"})
		if err != nil {
			t.Fatal(err)
		}
		// 30 + 3 keys + 3 members + the set; the missing key is not counted.
		if want := (Invalidation{Keys: 34, Sets: 1, Members: 3, Removed: 37}); res != want {
			t.Errorf("Invalidation = %+v, want %+v", res, want)
		}

		want := map[string]bool{"statuspage:keep": true, "{page:p0}:keep": true, "tag:{p0}": false}
		for _, key := range append(append(keys, tagged...), members...) {
			want[key] = false
		}
		assertExist(ctx, t, cluster, want)

		unlinks := rec.named("unlink")
		var unlinked int
		for _, args := range unlinks {
			slot := keySlot(args[1].(string))
			for _, arg := range args[2:] {
				if keySlot(arg.(string)) != slot {
					t.Errorf("UNLINK %v mixes slots", args[1:])
					break
				}
			}
			unlinked += len(args) - 1
		}
		if unlinked != 37 {
			t.Errorf("UNLINK commands held %d keys, want 37 (34 asked + 3 members)", unlinked)
		}
		slots := make(map[int]bool)
		for _, key := range append(asked, members...) {
			slots[keySlot(key)] = true
		}
		if len(unlinks) != len(slots) {
			t.Errorf("%d UNLINK commands, want one per slot: %d", len(unlinks), len(slots))
		}
	})
}
