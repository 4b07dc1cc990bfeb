package journal

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/pipeline"
)

// SourceRedrive is the audit source of a re-drive.
const SourceRedrive = "redrive"

// outcome is what one re-drive attempt came to.
type outcome int

const (
	// purged: every unfinished backend accepted everything.
	purged outcome = iota
	// retry: it failed in a way that may pass.
	retry
	// refused: a backend refused for good (a bad zone, a bad token).
	refused
)

// redrive purges e's unfinished part once, on the backends that did not
// finish, through the pipeline (the same purgers, coalescing, batching and
// rate limits as the server), which records it in the audit trail as
// source "redrive".
//
// Each attempt is a trace of its own, linked to the event's original
// trace (the entry's traceparent), when tracing is on.
func redrive(ctx context.Context, p *pipeline.Pipeline, e Entry) (chain.Answer, outcome) {
	ctx, span := p.Tracer().StartLinked(ctx, "redrive", e.TraceParent, e.TraceState)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("edgepurge.event_id", e.EventID), attribute.String("edgepurge.journal_id", e.ID),
			attribute.StringSlice("edgepurge.backends", e.Backends), attribute.Int("edgepurge.attempts", e.Attempts))
	}
	a := p.Run(ctx, SourceRedrive, e.EventID, e.Plan(), e.Backends)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("edgepurge.status", a.Status))
	}
	if a.Status == chain.StatusPurged {
		return a, purged
	}
	span.SetStatus(codes.Error, "not purged")
	for _, r := range a.Results {
		if r.Status == chain.BackendFailed && !r.Retryable && !r.Unsent {
			return a, refused
		}
	}
	return a, retry
}

// failure summarizes an answer's failed backends.
func failure(a chain.Answer) string {
	var parts []string
	for _, r := range a.Results {
		if r.Status == chain.BackendFailed {
			parts = append(parts, r.Backend+": "+r.Error)
		}
	}
	if len(parts) == 0 {
		return a.Status
	}
	return strings.Join(parts, "; ")
}

// Replayed is the outcome of one on-demand replay.
type Replayed struct {
	// ID is the entry's id in the journal, or in the dead-letter stream.
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	Page    string `json:"page,omitempty"`
	// Status is purged or failed; a purged entry is removed.
	Status string       `json:"status"`
	Answer chain.Answer `json:"answer"`
	// Error says what failed, including a failure to remove the entry.
	Error string `json:"error,omitempty"`
}

// replayConcurrency bounds the entries replayed at once; the purgers
// batch them together.
const replayConcurrency = 16

// Replay re-drives, now, every journal entry (dead: every dead letter),
// or only the one of id. A purged entry is removed; a failed one stays
// where it was. Results are in the stream's order.
func Replay(ctx context.Context, j *Journal, p *pipeline.Pipeline, dead bool, id string) ([]Replayed, error) {
	var entries []Entry
	if dead {
		ds, err := j.ListDead(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			entries = append(entries, d.Entry)
		}
	} else {
		es, err := j.Entries(ctx, id)
		if err != nil {
			return nil, err
		}
		entries = es
	}
	out := make([]Replayed, len(entries))
	sem := make(chan struct{}, replayConcurrency)
	var wg sync.WaitGroup
	for i, e := range entries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = replayOne(ctx, j, p, e, dead)
		})
	}
	wg.Wait()
	return out, nil
}

func replayOne(ctx context.Context, j *Journal, p *pipeline.Pipeline, e Entry, dead bool) Replayed {
	a, res := redrive(ctx, p, e)
	r := Replayed{ID: e.ID, EventID: e.EventID, Page: e.Page, Status: chain.StatusFailed, Answer: a}
	if res != purged {
		r.Error = failure(a)
		return r
	}
	var err error
	if dead {
		err = j.Exhume(ctx, e.ID)
	} else {
		err = j.Done(ctx, e.ID)
	}
	if err != nil {
		r.Error = "purged, but " + err.Error()
	}
	r.Status = chain.StatusPurged
	return r
}
