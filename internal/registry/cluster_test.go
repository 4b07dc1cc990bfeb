package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// interfere is a go-redis hook that, before the first script run in write
// mode on a second slot, changes the entry of that run's first key from
// another client: a writer slipping in between Apply's check and its
// write. (A run may be an EVALSHA and then, after NOSCRIPT, an EVAL.)
type interfere struct {
	mu    sync.Mutex
	first string // the first key of the first write run
	done  bool
	other *redis.ClusterClient
}

func (h *interfere) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *interfere) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *interfere) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if hasWrite(args) {
			key := fmt.Sprint(args[3])
			h.mu.Lock()
			if h.first == "" {
				h.first = key
			}
			fire := key != h.first && !h.done
			h.done = h.done || fire
			h.mu.Unlock()
			if fire {
				h.other.HSet(ctx, key, "hosts", "sneaky.example.com")
			}
		}
		return next(ctx, cmd)
	}
}

// hasWrite reports whether a script's arguments are in write mode: the
// first ARGV follows the keys.
func hasWrite(args []any) bool {
	name := fmt.Sprint(args[0])
	if name != "evalsha" && name != "eval" || len(args) < 3 {
		return false
	}
	var n int
	fmt.Sscan(fmt.Sprint(args[2]), &n)
	return len(args) > 3+n && args[3+n] == "write"
}

func TestApplyOnAClusterAcrossSlots(t *testing.T) {
	ctx := testContext(t)
	addrs := redistest.StartCluster(t, 3)
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = client.Close() })
	const prefix = "edgepurge:page:"
	reg := New(client, prefix)

	var changes []Change
	slots := map[int]bool{}
	for i := range 20 {
		id := fmt.Sprintf("c%d", i)
		slots[cache.KeySlot(prefix+id)] = true
		changes = append(changes, Change{Page: Page{ID: id, Hosts: []string{id + ".example.com"}}})
	}
	if len(slots) < 3 {
		t.Fatalf("the pages span %d slots; the test needs several", len(slots))
	}
	out, err := reg.Apply(ctx, changes)
	if err != nil {
		t.Fatalf("Apply across %d slots: %v (a CROSSSLOT means the keys were not grouped)", len(slots), err)
	}
	etags := map[string]string{}
	for _, o := range out {
		if o.Result != ResultCreated {
			t.Errorf("%s: %s", o.ID, o.Result)
		}
		etags[o.ID] = o.ETag
	}

	// Listed from every primary, through the cursor.
	seen := map[string]bool{}
	cursor := ""
	for {
		list, next, err := reg.List(ctx, cursor, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			seen[e.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 20 {
		t.Errorf("listed %d of 20 pages", len(seen))
	}

	// A stale ETag in the last slot: found by the check, nothing written.
	update := make([]Change, len(changes))
	for i, c := range changes {
		update[i] = Change{Page: Page{ID: c.Page.ID, Hosts: []string{"new-" + c.Page.ID + ".example.com"}}, IfMatch: etags[c.Page.ID]}
	}
	update[19].IfMatch = "9-000000000000"
	if _, err := reg.Apply(ctx, update); !errors.As(err, new(*ConflictError)) {
		t.Fatalf("a stale ETag: %v", err)
	}
	for _, c := range changes {
		if e, _, _ := reg.Get(ctx, c.Page.ID); e.ETag != etags[c.Page.ID] {
			t.Errorf("%s changed although the bulk was refused", c.Page.ID)
		}
	}

	// A writer slipping in between the check and the write of the second
	// slot: the first slot's writes are undone, the writer's change kept.
	update[19].IfMatch = etags["c19"]
	hook := &interfere{other: redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})}
	t.Cleanup(func() { _ = hook.other.Close() })
	client.AddHook(hook)
	_, err = reg.Apply(ctx, update)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("a writer in between: %v", err)
	}
	for _, c := range changes {
		e, _, err := reg.Get(ctx, c.Page.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.Page.ID == conflict.ID:
			if e.Hosts[0] != "sneaky.example.com" {
				t.Errorf("the other writer's change to %s was lost: %v", c.Page.ID, e.Hosts)
			}
		case e.ETag != etags[c.Page.ID] || e.Hosts[0] != c.Page.ID+".example.com":
			t.Errorf("%s not put back: %+v", c.Page.ID, e)
		}
	}
}
