// Package canary purges a URL or tag of the operator's choosing every few
// seconds through the normal purge path (the same purgers, coalescing and
// rate limits as a hook), so that readiness says the instance can really
// purge, not only that its dependencies answer.
package canary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/health"
	"github.com/edgepurge/edgepurge/internal/pipeline"
	"github.com/edgepurge/edgepurge/internal/plan"
)

// Name is the canary's readiness check and audit source.
const Name = "canary"

// Config configures a Canary.
type Config struct {
	// URL and Tag are what each run purges; at least one is set.
	URL, Tag string
	// Zone is the CDN zone of the purge.
	Zone string
	// Interval between runs, Timeout of one run, MaxAge of the last
	// success before readiness fails.
	Interval, Timeout, MaxAge time.Duration
	// Pipeline purges, and records each run in the audit trail as source
	// "canary".
	Pipeline *pipeline.Pipeline
	// Observe and Log may be nil.
	Observe func(err error, at time.Time)
	Log     *slog.Logger
}

// Canary is the periodic self-purge.
type Canary struct {
	cfg Config
	now func() time.Time
}

// New returns a Canary.
func New(cfg Config) *Canary {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Canary{cfg: cfg, now: time.Now}
}

// Probe is the readiness check "canary", a shared one (every instance
// purges through the same CDN and Redis): failing when a run fails, and
// when the last success is older than MaxAge (a run stuck waiting for rate
// budget); it makes the instance unready only past readiness.shared_grace.
func (c *Canary) Probe() health.Probe {
	return health.Probe{Name: Name, Check: c.Purge, Interval: c.cfg.Interval, Timeout: c.cfg.Timeout, MaxAge: c.cfg.MaxAge, Shared: true}
}

// Purge runs the canary once and returns why it failed, if it did.
func (c *Canary) Purge(ctx context.Context) error {
	start := c.now()
	p := plan.Plan{Zone: c.cfg.Zone, URLs: []string{}, Tags: []string{}, Keys: []string{}}
	if c.cfg.URL != "" {
		p.URLs = []string{c.cfg.URL}
	}
	if c.cfg.Tag != "" {
		p.Tags = []string{c.cfg.Tag}
	}
	a := c.cfg.Pipeline.Run(ctx, Name, Name+"_"+strconv.FormatInt(start.UnixMilli(), 10), p, nil)
	err := failure(a)
	if c.cfg.Observe != nil {
		c.cfg.Observe(err, c.now())
	}
	if err != nil {
		c.cfg.Log.Warn("canary purge failed", "id", a.ID, "status", a.Status, "err", err)
	} else {
		c.cfg.Log.Debug("canary purged", "id", a.ID, "duration_ms", a.DurationMS)
	}
	return err
}

// failure is nil when every backend purged, else the failing backends'
// errors.
func failure(a chain.Answer) error {
	if a.Status == chain.StatusPurged {
		return nil
	}
	var msgs []string
	for _, r := range a.Results {
		if r.Status != chain.BackendOK {
			msgs = append(msgs, r.Backend+": "+r.Error)
		}
	}
	if len(msgs) == 0 {
		return fmt.Errorf("canary purge %s", a.Status)
	}
	return errors.New(strings.Join(msgs, "; "))
}
