package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/journal"
	"github.com/edgepurge/edgepurge/internal/metrics"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/server"
)

// journalParts are the re-drive journal and its metrics; j is nil when
// journal.disabled.
type journalParts struct {
	j       *journal.Journal
	metrics *metrics.Journal
}

// newJournal builds the journal; the Chain and the audit trail must exist.
func (a *App) newJournal() {
	jc := a.cfg.Journal
	if jc.Disabled {
		return
	}
	a.jrnl.j = journal.New(a.redis, journal.Config{
		Stream: jc.Stream, Group: jc.Group, DeadStream: jc.DeadStream,
		ClaimIdle: jc.ClaimIdle, MaxAge: jc.MaxAge, Poll: jc.Poll,
		MaxEntries: jc.MaxEntries, MaxDead: jc.MaxDead,
	})
	a.jrnl.metrics = metrics.NewJournal(a.Metrics.Registry)
	a.jrnl.metrics.Capacity.WithLabelValues("journal").Set(float64(jc.MaxEntries))
	a.jrnl.metrics.Capacity.WithLabelValues("dead").Set(float64(jc.MaxDead))
}

// journaler is the pipeline's Journaler: a nil interface, not a typed nil,
// when the journal is off (or the run is dry).
func (a *App) journaler() pipeline.Journaler {
	if a.jrnl.j == nil || a.cfg.DryRun {
		return nil
	}
	return journal.Writer{To: a.jrnl.j, KeysBackend: a.Chain.KeysBackend(), Metrics: a.jrnl.metrics}
}

// journalAdmin is the server's JournalAdmin (the console's listings and
// replays): the same as the CLI's, on this App; a nil interface, not a
// typed nil, when the journal is off.
func (a *App) journalAdmin() server.JournalAdmin {
	if a.jrnl.j == nil {
		return nil
	}
	return &Journal{app: a}
}

// startJournal starts the re-driver; the returned stop cancels the
// re-drives in flight (their entries stay in the journal) and returns once
// the re-driver is done.
func (a *App) startJournal() (stop func()) {
	if a.jrnl.j == nil || a.cfg.DryRun {
		return func() {}
	}
	r := journal.NewRedriver(journal.RedriverConfig{
		Journal: a.jrnl.j, Pipeline: a.Pipeline, Consumer: consumerName(),
		Metrics: a.jrnl.metrics, Log: a.log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// consumerName names this process in the journal's consumer group:
// hostname and pid, unique per process, so that a restarted instance's
// old entries are taken over as abandoned.
func consumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "edgepurge"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// Journal is the re-drive journal as the CLI sees it (edgepurge journal,
// edgepurge replay): built by New from the config, like Direct, so a
// replay purges through exactly the service's purgers, coalescing and
// shared rate limits. The HTTP server New also builds is never started.
type Journal struct {
	app *App
}

// ErrJournalDisabled is returned when the config turns the journal off.
var ErrJournalDisabled = errors.New("the journal is disabled (journal.disabled)")

// NewJournal opens the journal of cfg.
func NewJournal(cfg *config.Config, log *slog.Logger, build Build) (*Journal, error) {
	if cfg.Journal.Disabled {
		return nil, ErrJournalDisabled
	}
	a, err := New(cfg, log, build)
	if err != nil {
		return nil, err
	}
	return &Journal{app: a}, nil
}

// Pending lists a page of up to limit entries the journal still has to
// purge, after the entry after ("" from the oldest), oldest first.
func (j *Journal) Pending(ctx context.Context, after string, limit int) (journal.Page[journal.Pending], error) {
	return j.app.jrnl.j.List(ctx, after, limit)
}

// Dead lists a page of up to limit dead letters after the one after,
// oldest first.
func (j *Journal) Dead(ctx context.Context, after string, limit int) (journal.Page[journal.Dead], error) {
	return j.app.jrnl.j.ListDeadPage(ctx, after, limit)
}

// Replay re-drives the journal (dead: the dead letters), or only entry id,
// now; every re-drive is recorded in the audit trail as source redrive.
func (j *Journal) Replay(ctx context.Context, dead bool, id string) ([]journal.Replayed, error) {
	if j.app.cfg.DryRun {
		return nil, fmt.Errorf("replay: %w", server.ErrDryRun)
	}
	return journal.Replay(ctx, j.app.jrnl.j, j.app.Pipeline, dead, id)
}

// journalFlushTimeout bounds the audit write at Close.
const journalFlushTimeout = 3 * time.Second

// Close writes the audit records of the replays and releases Redis.
func (j *Journal) Close() error {
	if j.app.ops.audit != nil {
		ctx, cancel := context.WithTimeout(context.Background(), journalFlushTimeout)
		j.app.ops.audit.Flush(ctx)
		cancel()
	}
	return j.app.Close()
}
