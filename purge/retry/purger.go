package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// Config configures a Purger.
type Config struct {
	// Next makes the calls.
	Next purge.Purger
	// Backoff spaces the attempts; the zero value uses the defaults.
	Backoff Backoff
	// OnRetry, when set, is told each retry's reason (see Reason), for the
	// retries metric.
	OnRetry func(reason string)
}

// Purger retries Next's transient failures while the request's deadline
// allows. It is safe for concurrent use.
type Purger struct {
	cfg Config
}

var _ purge.Purger = (*Purger)(nil)

// New returns a Purger.
func New(cfg Config) *Purger { return &Purger{cfg: cfg} }

// Name is Next's name.
func (p *Purger) Name() string { return p.cfg.Next.Name() }

// Purge sends req through Next and, on a retryable failure, sends the whole
// request again after a backoff (purging an item twice is harmless),
// until it succeeds, fails permanently, or the next attempt could not
// start before ctx's deadline. It then returns the last failure, its
// message saying how many attempts were made. Result.Calls counts every
// attempt's calls; Result.Items is the last attempt's.
func (p *Purger) Purge(ctx context.Context, req purge.Request) (purge.Result, error) {
	var calls int
	for attempt := 1; ; attempt++ {
		res, err := p.cfg.Next.Purge(ctx, req)
		calls += res.Calls
		res.Calls = calls
		if err == nil || !Retryable(err) {
			return res, err
		}
		wait := p.cfg.Backoff.Delay(attempt, purge.AsError(err).RetryAfter)
		if ctx.Err() != nil {
			return res, gaveUp(err, attempt, "deadline passed")
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return res, gaveUp(err, attempt, fmt.Sprintf("next attempt due in %s, after the deadline", wait.Round(time.Millisecond)))
		}
		if p.cfg.OnRetry != nil {
			p.cfg.OnRetry(Reason(err))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res, gaveUp(err, attempt, "deadline passed")
		}
	}
}

// gaveUp is the last failure, still retryable (a later try may succeed),
// saying how many attempts were made and why there was no other. After a
// single attempt the failure is returned as it is.
func gaveUp(err error, attempts int, why string) error {
	if attempts < 2 {
		return err
	}
	pe := *purge.AsError(err)
	pe.Message = fmt.Sprintf("%s (after %d attempts; %s)", pe.Message, attempts, why)
	return &pe
}
