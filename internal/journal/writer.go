package journal

import (
	"context"
	"errors"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/tracing"
)

// Writer journals the unfinished part of answers: the data path's side of
// the journal.
type Writer struct {
	To *Journal
	// KeysBackend names the Redis side's results ("redis").
	KeysBackend string
	// Metrics may be nil.
	Metrics *metrics.Journal
}

// Journal writes a's unfinished part (see Unfinished). ok is false when
// there is none that may be journaled; err says the write failed.
func (w Writer) Journal(ctx context.Context, source string, a *chain.Answer) (id string, ok bool, err error) {
	e, ok := Unfinished(source, *a, w.KeysBackend, time.Now())
	if !ok {
		return "", false, nil
	}
	e.TraceParent, e.TraceState = tracing.TraceParent(ctx)
	b, err := encode(&e)
	if err == nil {
		id, err = w.To.write(ctx, b)
	}
	if w.Metrics != nil {
		switch {
		case err == nil:
			w.Metrics.Journaled.Inc()
		case errors.Is(err, ErrFull):
			w.Metrics.Full.Inc()
		}
	}
	return id, true, err
}
