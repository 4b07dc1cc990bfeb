package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAFullJournalRefusesTheWriteNeverDropsAnEntry(t *testing.T) {
	j := testJournal(t, func(c *Config) { c.MaxEntries = 2 })
	ctx := context.Background()
	for i := range 2 {
		if _, err := j.Write(ctx, sampleEntry("e"+string(rune('1'+i)))); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	m := metrics.NewJournal(prometheus.NewRegistry())
	w := Writer{To: j, KeysBackend: "redis", Metrics: m}
	a := chain.Answer{ID: "e3", Status: chain.StatusFailed, Results: []chain.BackendResult{
		{Backend: "cloudflare", Status: chain.BackendFailed, Retryable: true, Error: "HTTP 500"}}}
	_, ok, err := w.Journal(ctx, "hook", &a)
	if !ok || !errors.Is(err, ErrFull) {
		t.Fatalf("write to a full journal: ok %v, err %v; want ErrFull", ok, err)
	}
	if got := testutil.ToFloat64(m.Full); got != 1 {
		t.Errorf("full writes counted %v", got)
	}
	es, err := j.Entries(ctx, "")
	if err != nil || len(es) != 2 || es[0].EventID != "e1" || es[1].EventID != "e2" {
		t.Errorf("entries %+v, %v: want the two first, untouched", es, err)
	}
	// Room again once one is done.
	if err := j.Done(ctx, es[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Write(ctx, sampleEntry("e3")); err != nil {
		t.Errorf("write after room was made: %v", err)
	}
}

func TestAFullDeadLetterStreamKeepsTheEntryInTheJournal(t *testing.T) {
	j := testJournal(t, func(c *Config) { c.MaxDead = 1 })
	ctx := context.Background()
	now := time.Now()
	id1, _ := j.Write(ctx, sampleEntry("e1"))
	id2, _ := j.Write(ctx, sampleEntry("e2"))
	e1, e2 := sampleEntry("e1"), sampleEntry("e2")
	e1.ID, e2.ID = id1, id2
	if err := j.Bury(ctx, e1, "test", now); err != nil {
		t.Fatal(err)
	}
	if err := j.Bury(ctx, e2, "test", now); !errors.Is(err, ErrFull) {
		t.Fatalf("bury into a full dead-letter stream: %v, want ErrFull", err)
	}
	es, _ := j.Entries(ctx, "")
	dead, _ := j.ListDead(ctx, "")
	if len(es) != 1 || es[0].EventID != "e2" || len(dead) != 1 || dead[0].EventID != "e1" {
		t.Errorf("journal %d entries, dead %d: want e2 still journaled, e1 dead", len(es), len(dead))
	}
	s, err := j.Stats(ctx)
	if err != nil || s.Pending != 1 || s.Dead != 1 {
		t.Errorf("stats %+v, %v", s, err)
	}
}

func TestListingIsPaged(t *testing.T) {
	j := testJournal(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		id, err := j.Write(ctx, sampleEntry(fmt.Sprint("e", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var got []string
	after, pages := "", 0
	for {
		p, err := j.List(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Total != 5 || len(p.Items) > 2 {
			t.Fatalf("page %+v", p)
		}
		for _, e := range p.Items {
			got = append(got, e.ID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if pages != 3 || !slices.Equal(got, ids) {
		t.Errorf("%d pages listed %q, want 3 pages of %q", pages, got, ids)
	}
}
