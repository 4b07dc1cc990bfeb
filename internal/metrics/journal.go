package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Journal are the re-drive journal's metrics. They live on the same
// registry as Metrics.
type Journal struct {
	// Pending is how many entries the journal holds (not yet purged).
	Pending prometheus.Gauge
	// OldestAge is the age in seconds of the oldest entry's first failure;
	// 0 when the journal is empty.
	OldestAge prometheus.Gauge
	// DeadLetters counts entries moved to the dead-letter stream.
	DeadLetters prometheus.Counter
	// Redrives counts re-drive attempts by result (ok, failed, dead).
	Redrives *prometheus.CounterVec
	// Journaled counts entries written to the journal by the data path.
	Journaled prometheus.Counter
	// Dead is how many dead letters wait for a replay.
	Dead prometheus.Gauge
	// Capacity is each stream's cap (journal, dead), for alerts on
	// Pending / Capacity.
	Capacity *prometheus.GaugeVec
	// Full counts writes refused because the journal held its cap
	// (answered 503).
	Full prometheus.Counter
}

// NewJournal creates the journal's metrics and registers them on reg.
func NewJournal(reg prometheus.Registerer) *Journal {
	j := &Journal{
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepurge_journal_pending",
			Help: "Entries in the re-drive journal: unfinished purges waiting to be re-driven.",
		}),
		OldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepurge_journal_oldest_age_seconds",
			Help: "Seconds since the first failure of the oldest journal entry; 0 when the journal is empty.",
		}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_journal_dead_letters_total",
			Help: "Journal entries moved to the dead-letter stream (failing past journal.max_age, or refused for good).",
		}),
		Redrives: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepurge_journal_redrives_total",
			Help: "Re-drive attempts of journal entries, by result (ok, failed, dead).",
		}, []string{"result"}),
		Journaled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_journal_entries_total",
			Help: "Unfinished purges written to the journal (answered 202).",
		}),
		Dead: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepurge_journal_dead_pending",
			Help: "Dead letters waiting in the dead-letter stream for a replay.",
		}),
		Capacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgepurge_journal_capacity",
			Help: "The cap of each journal stream (journal.max_entries, journal.max_dead), by stream (journal, dead).",
		}, []string{"stream"}),
		Full: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepurge_journal_full_total",
			Help: "Unfinished purges the journal refused because it held journal.max_entries (answered 503).",
		}),
	}
	reg.MustRegister(j.Pending, j.OldestAge, j.DeadLetters, j.Redrives, j.Journaled, j.Dead, j.Capacity, j.Full)
	return j
}
