package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// takes records what a queue asks of its budget, granting everything.
type takes struct {
	mu  sync.Mutex
	got map[ratelimit.Bucket]int
}

func (l *takes) Take(_ context.Context, b ratelimit.Bucket, n int) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got[b] += n
	return n, 0
}

func (l *takes) Pause(context.Context, ratelimit.Bucket, time.Duration) {}

// accept is a purger that accepts every request.
type accept struct{}

func (accept) Name() string { return "accept" }
func (accept) Purge(_ context.Context, r purge.Request) (purge.Result, error) {
	return purge.Result{Items: r.Items(), Calls: 1}, nil
}

// With TagsPerItem a tag call spends one Tags token per tag (Akamai);
// without, one Calls token per call.
func TestTagsPerItemSpendsATokenPerTag(t *testing.T) {
	tags := make([]string, 7)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag-%d", i)
	}
	for _, perItem := range []bool{true, false} {
		lim := &takes{got: map[ratelimit.Bucket]int{}}
		p := New(Config{Next: accept{}, MaxItemsPerCall: 100, MaxInflight: 1, Limiter: lim, TagsPerItem: perItem})
		if _, err := p.Purge(context.Background(), purge.Request{Zone: "z", Tags: tags}); err != nil {
			t.Fatal(err)
		}
		want := map[ratelimit.Bucket]int{ratelimit.Calls: 1}
		if perItem {
			want = map[ratelimit.Bucket]int{ratelimit.Tags: len(tags)}
		}
		if fmt.Sprint(lim.got) != fmt.Sprint(want) {
			t.Errorf("TagsPerItem %t: took %v, want %v", perItem, lim.got, want)
		}
	}
}
