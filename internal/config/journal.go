package config

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of the re-drive journal.
const (
	DefaultJournalStream    = "edgepurge:journal"
	DefaultJournalGroup     = "edgepurge"
	DefaultJournalClaimIdle = 30 * time.Second
	DefaultJournalMaxAge    = time.Hour
	DefaultJournalPoll      = time.Second
	// DefaultJournalMaxEntries holds a storm of 10,000 pages twice over;
	// an entry of a page's ~22 URLs is about 2 KB, so about 40 MB of Redis.
	DefaultJournalMaxEntries = 20000
	// DefaultJournalMaxDead holds the dead letters of a day-long CDN outage
	// at the default max_age only in part: each dead letter pages someone.
	DefaultJournalMaxDead = 10000
)

// Journal configures the durable re-drive journal: the unfinished part of
// an event whose purge could not complete in time is kept in a Redis
// Stream and re-purged in the background by every instance.
type Journal struct {
	// Disabled turns the journal off: a purge that could not complete is
	// answered 502/503 as before, and nothing is re-driven.
	Disabled bool `yaml:"disabled"`
	// Stream is the Redis Stream's key; default edgepurge:journal.
	Stream string `yaml:"stream"`
	// Group is the consumer group every instance reads with; default
	// edgepurge.
	Group string `yaml:"group"`
	// DeadStream receives the entries that kept failing past MaxAge;
	// default the stream's name followed by ":dead".
	DeadStream string `yaml:"dead_stream"`
	// ClaimIdle is how long an entry may sit untouched with an instance
	// before another instance takes it over (the owner died); default 30 s.
	ClaimIdle time.Duration `yaml:"claim_idle"`
	// MaxAge is how long after its first failure an entry is re-driven
	// before it moves to the dead-letter stream; default 1 h.
	MaxAge time.Duration `yaml:"max_age"`
	// Poll is how often the re-driver looks for work; default 1 s.
	Poll time.Duration `yaml:"poll"`
	// MaxEntries caps the journal; default 20,000. A full journal answers
	// the event 503 (the caller retries), never drops it.
	MaxEntries int64 `yaml:"max_entries"`
	// MaxDead caps the dead-letter stream; default 10,000. An entry that
	// would die into a full one stays in the journal, re-driven.
	MaxDead int64 `yaml:"max_dead"`
}

func (c *Config) setJournalDefaults() {
	j := &c.Journal
	j.Stream = cmp.Or(j.Stream, DefaultJournalStream)
	j.Group = cmp.Or(j.Group, DefaultJournalGroup)
	j.DeadStream = cmp.Or(j.DeadStream, j.Stream+":dead")
	j.ClaimIdle = cmp.Or(j.ClaimIdle, DefaultJournalClaimIdle)
	j.MaxAge = cmp.Or(j.MaxAge, DefaultJournalMaxAge)
	j.Poll = cmp.Or(j.Poll, DefaultJournalPoll)
	j.MaxEntries = cmp.Or(j.MaxEntries, DefaultJournalMaxEntries)
	j.MaxDead = cmp.Or(j.MaxDead, DefaultJournalMaxDead)
}

// validateJournal checks the journal's settings.
func (c *Config) validateJournal() []error {
	if c.Journal.Disabled {
		return nil
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	j := c.Journal
	if j.Stream == j.DeadStream {
		add("journal.dead_stream=%q: must differ from journal.stream", j.DeadStream)
	}
	if j.MaxEntries < 1 || j.MaxDead < 1 {
		add("journal.max_entries=%d, journal.max_dead=%d: must be positive", j.MaxEntries, j.MaxDead)
	}
	if j.Poll < 10*time.Millisecond {
		add("journal.poll=%s: must be at least 10ms", j.Poll)
	}
	if j.ClaimIdle < 3*j.Poll {
		add("journal.claim_idle=%s: must be at least three journal.poll (%s), or live instances steal each other's entries", j.ClaimIdle, 3*j.Poll)
	}
	if j.MaxAge < j.Poll {
		add("journal.max_age=%s: must be at least journal.poll (%s)", j.MaxAge, j.Poll)
	}
	return errs
}

// applyJournalEnv reads EDGEPURGE_JOURNAL_STREAM (the dead-letter stream
// follows it unless set in the file) and EDGEPURGE_JOURNAL_DISABLED.
func applyJournalEnv(cfg *Config, getenv Getenv) error {
	if v := strings.TrimSpace(getenv("EDGEPURGE_JOURNAL_STREAM")); v != "" {
		cfg.Journal.Stream = v
	}
	if v := strings.TrimSpace(getenv("EDGEPURGE_JOURNAL_DISABLED")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("EDGEPURGE_JOURNAL_DISABLED=%q: want true or false", v)
		}
		cfg.Journal.Disabled = b
	}
	return nil
}
