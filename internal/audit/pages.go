package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// PageChange is one change of a page's registry entry made through the
// pages API: who made it, what it was before and after, and when.
type PageChange struct {
	Time time.Time `json:"time"`
	// Actor is the name of the credential the request bore (api_token).
	Actor string `json:"actor"`
	Page  string `json:"page"`
	// Result is created, updated or deleted.
	Result string     `json:"result"`
	Before *PageState `json:"before,omitempty"`
	After  *PageState `json:"after,omitempty"`
	// ETag is the entry's ETag after the change.
	ETag string `json:"etag,omitempty"`
	// RequestID is the X-Request-Id of the request that made the change.
	RequestID string `json:"request_id,omitempty"`
}

// PageState is a page entry's hostnames, zone and options.
type PageState struct {
	Hosts []string `json:"hosts"`
	Zone  string   `json:"zone,omitempty"`
	// Options are the page options (plan.Options) as stored.
	Options json.RawMessage `json:"options,omitempty"`
}

// PageTrail is the audit trail of page changes: a capped Redis Stream of
// its own, written as the change is made (a change is rare and its request
// waits for its record, unlike a purge's).
type PageTrail struct {
	rdb    redis.UniversalClient
	stream string
	maxLen int64
}

// NewPageTrail returns the trail in stream, capped at about maxLen records.
func NewPageTrail(rdb redis.UniversalClient, stream string, maxLen int64) *PageTrail {
	return &PageTrail{rdb: rdb, stream: stream, maxLen: maxLen}
}

// Write appends changes to the trail, in order.
func (t *PageTrail) Write(ctx context.Context, changes []PageChange) error {
	if len(changes) == 0 {
		return nil
	}
	_, err := t.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range changes {
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: t.stream, MaxLen: t.maxLen, Approx: true, Values: []any{field, b}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write the page changes to the audit trail %s: %w", t.stream, err)
	}
	return nil
}

// List answers the newest changes first, at most limit of them, of pageID
// only when it is not empty; it reads at most the stream's cap.
func (t *PageTrail) List(ctx context.Context, pageID string, limit int) ([]PageChange, error) {
	out := []PageChange{}
	start := "+"
	const page = 500
	for scanned := int64(0); scanned < t.maxLen+page && len(out) < limit; {
		msgs, err := t.rdb.XRevRangeN(ctx, t.stream, start, "-", page).Result()
		if err != nil {
			return nil, fmt.Errorf("read the page changes of the audit trail %s: %w", t.stream, err)
		}
		for _, m := range msgs {
			var c PageChange
			s, _ := m.Values[field].(string)
			if json.Unmarshal([]byte(s), &c) != nil || (pageID != "" && c.Page != pageID) {
				continue
			}
			out = append(out, c)
			if len(out) == limit {
				break
			}
		}
		if len(msgs) < page {
			break
		}
		scanned += int64(len(msgs))
		start = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}
