// Package bench is edgepurge's load generator (issue 4, `make bench`). For
// each phase it starts the Cloudflare stand-in in-process and a real
// `edgepurge serve` (or one of the bench's own handlers: bare, a
// signature check and parse; naive, one Cloudflare call an event) as a
// subprocess, fires signed Standard Webhooks events and Statuspage-shaped
// notifications from many concurrent keep-alive senders, and measures what
// the senders, the stand-in and the server's memory saw. All traffic stays
// on 127.0.0.1, and every loop is bounded in time and count.
//
// With a second binary (Config.BeforeBin), each phase that runs edgepurge
// runs with both, alternately, and the report sets their medians side by
// side (A/B).
package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// Config is one bench invocation.
type Config struct {
	// ServerBin is the edgepurge binary.
	ServerBin string
	// BeforeBin, when set, is another edgepurge binary (say, main's) that
	// every phase running edgepurge also runs with, Runs times, its runs
	// alternating with ServerBin's: before, after, before, after…
	BeforeBin string
	// OwnCommand is the argv that serves the bench's own handlers; the
	// bench appends the handler's name (bare, naive) and "--listen
	// 127.0.0.1:PORT". Needed only for the bare and naive phases.
	OwnCommand []string
	// Phases run in order; see DefaultPhases and SelectPhases.
	Phases []Phase
	// Concurrency overrides the phases' sender counts by phase name; the
	// key "*" applies to every phase without its own.
	Concurrency map[string]int
	// Duration is how long each run fires events.
	Duration time.Duration
	// Events, when positive, ends a run after that many events.
	Events int
	// Runs is how many times each phase runs; figures are the medians.
	Runs int
	// StatuspageShare is the fraction of Statuspage-shaped events.
	StatuspageShare float64
	// RedisURL is the server's Redis; it must be on the loopback.
	RedisURL string
	// PurgeTimeout is the server's server.purge_timeout.
	PurgeTimeout time.Duration
	// LogLevel is the server's log.level.
	LogLevel string
	// ProfileDir, when set, gets the server's CPU profile of each phase's
	// last run (PHASE.pprof), for `go tool pprof`.
	ProfileDir string
	// Progress receives one line per run; nil for none.
	Progress io.Writer
}

// Defaults of Config.
const (
	DefaultDuration        = 10 * time.Second
	DefaultRuns            = 3
	DefaultStatuspageShare = 0.1
	DefaultRedisURL        = "redis://127.0.0.1:6379/0"
	DefaultPurgeTimeout    = 10 * time.Second
	DefaultLogLevel        = "info"
)

// readyTimeout bounds a server's start: config, Redis, token verification.
const readyTimeout = 30 * time.Second

// Run runs every phase Runs times and returns the report. It stops early,
// with the phases done so far, when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = withDefaults(cfg)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	id, creds, err := newIdentity()
	if err != nil {
		return nil, err
	}
	r := &Report{BenchID: id, Machine: thisMachine(), Settings: cfg.settings()}
	for _, ph := range cfg.Phases {
		ph.Concurrency = cfg.concurrency(ph)
		pr := PhaseReport{Name: ph.Name, About: ph.About, Concurrency: ph.Concurrency, Bare: ph.Own == ownBare, Stub: ph.Stub}
		if ph.Own != ownBare {
			pr.StandIn = ph.Stub.String()
		}
		if cfg.BeforeBin != "" && ph.Own == "" {
			pr.Before = &Baseline{}
		}
		run := func(before bool, i int) (Figures, error) {
			bin, name := cfg.ServerBin, ph.Name
			if before {
				bin, name = cfg.BeforeBin, ph.Name+" (before)"
			}
			if err := ctx.Err(); err != nil {
				return Figures{}, fmt.Errorf("bench interrupted: %w", err)
			}
			f, err := runPhase(ctx, cfg, bin, ph, id, creds, rdb)
			if err != nil {
				return Figures{}, fmt.Errorf("%s run %d: %w", name, i+1, err)
			}
			cfg.progress(name, i, f)
			return f, nil
		}
		// A/B: the binaries' runs alternate, before first, so that a
		// change in the machine's load falls on both.
		for i := range cfg.Runs {
			if pr.Before != nil {
				f, err := run(true, i)
				if err != nil {
					r.evaluate()
					return r, err
				}
				pr.Before.Runs = append(pr.Before.Runs, f)
			}
			f, err := run(false, i)
			if err != nil {
				r.evaluate()
				return r, err
			}
			pr.Runs = append(pr.Runs, f)
		}
		pr.Median = medianFigures(pr.Runs)
		if pr.Before != nil {
			pr.Before.Median = medianFigures(pr.Before.Runs)
		}
		r.Phases = append(r.Phases, pr)
	}
	r.evaluate()
	return r, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Runs <= 0 {
		cfg.Runs = DefaultRuns
	}
	if cfg.RedisURL == "" {
		cfg.RedisURL = DefaultRedisURL
	}
	if cfg.PurgeTimeout <= 0 {
		cfg.PurgeTimeout = DefaultPurgeTimeout
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = DefaultLogLevel
	}
	if len(cfg.Phases) == 0 {
		cfg.Phases = DefaultPhases()
	}
	return cfg
}

func (cfg Config) validate() error {
	var errs []error
	needServer, needOwn := false, false
	for _, ph := range cfg.Phases {
		needServer = needServer || ph.Own == ""
		needOwn = needOwn || ph.Own != ""
	}
	if needServer {
		if _, err := os.Stat(cfg.ServerBin); err != nil {
			errs = append(errs, fmt.Errorf("server binary: %w (run `make build` first)", err))
		}
		if cfg.BeforeBin != "" {
			if _, err := os.Stat(cfg.BeforeBin); err != nil {
				errs = append(errs, fmt.Errorf("before binary: %w", err))
			}
		}
	}
	if needOwn && len(cfg.OwnCommand) == 0 {
		errs = append(errs, errors.New("the bare and naive phases need the bench's own handler command"))
	}
	if cfg.StatuspageShare < 0 || cfg.StatuspageShare > 1 {
		errs = append(errs, fmt.Errorf("statuspage share %g: must be within 0..1", cfg.StatuspageShare))
	}
	for name, c := range cfg.Concurrency {
		if c < 1 {
			errs = append(errs, fmt.Errorf("concurrency of %s: %d: must be positive", name, c))
		}
	}
	return errors.Join(errs...)
}

func (cfg Config) concurrency(ph Phase) int {
	if c, ok := cfg.Concurrency[ph.Name]; ok {
		return c
	}
	if c, ok := cfg.Concurrency["*"]; ok {
		return c
	}
	return ph.Concurrency
}

func (cfg Config) progress(name string, run int, f Figures) {
	if cfg.Progress == nil {
		return
	}
	fmt.Fprintf(cfg.Progress, "%-20s run %d/%d: %6.0f events/s  p50 %s ms  p99 %s ms  non-200 %d  CDN calls %d (%.1f URLs/call)  429s %d  RSS %.0f MB  CPU%% server %.0f bench %.0f redis %.0f machine %.0f  server µs/event %.1f  [%.1fs]\n",
		name, run+1, cfg.Runs, f.EventsPerSec, fmtMS(f.P50MS), fmtMS(f.P99MS), f.NonOK(),
		f.CDNCalls, f.URLsPerCallMean, f.CDN429, f.PeakRSSMB, f.ServerCPUPct, f.BenchCPUPct, f.RedisCPUPct, f.MachineCPUPct, f.ServerCPUUSPerEvent, f.ElapsedS)
}

// newIdentity makes up the bench's unique name and credentials.
func newIdentity() (string, secrets, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", secrets{}, fmt.Errorf("make up credentials: %w", err)
	}
	id := "edgepurge-bench-" + hex.EncodeToString(b[:4])
	return id, secrets{
		cfToken:    "bench-cf-" + hex.EncodeToString(b[4:12]),
		webhook:    "whsec_" + base64.StdEncoding.EncodeToString(b[12:]),
		statuspage: "bench-sp-" + hex.EncodeToString(b[4:10]),
	}, nil
}

// runPhase runs one phase once, with the edgepurge binary bin when the
// phase runs edgepurge.
func runPhase(ctx context.Context, cfg Config, bin string, ph Phase, id string, creds secrets, rdb *redis.Client) (Figures, error) {
	dir, err := os.MkdirTemp("", "edgepurge-bench-")
	if err != nil {
		return Figures{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return Figures{}, err
	}

	var stub *cfstub.Server
	var stubURL string
	if ph.Own != ownBare {
		stub = cfstub.New(ph.Stub.options(creds.cfToken))
		defer stub.Close()
		if stubURL, err = stub.Start(); err != nil {
			return Figures{}, err
		}
	}
	var proc *process
	switch ph.Own {
	case "":
		profile := cfg.profilePath(ph.Name)
		if bin != cfg.ServerBin {
			profile = "" // the profile is the binary under test's
		}
		proc, err = serverSpec{
			bin: bin, addr: addr, stubURL: stubURL, redisURL: cfg.RedisURL,
			id: id, creds: creds, stub: ph.Stub,
			purgeTimeout: cfg.PurgeTimeout, logLevel: cfg.LogLevel, dir: dir,
			cpuProfile: profile,
			extraEnv:   coverEnv(ph.Cover),
		}.start()
	default:
		argv := append(append([]string{}, cfg.OwnCommand...), ph.Own, "--listen", addr)
		env := []string{"EDGEPURGE_WEBHOOK_SECRETS=" + creds.webhook, "EDGEPURGE_STATUSPAGE_TOKEN=" + creds.statuspage}
		if ph.Own == ownNaive {
			env = append(env, naiveEnv(stubURL, creds.cfToken)...)
		}
		proc, err = startProcess(argv, env, addr, filepath.Join(dir, ph.Own+".log"))
	}
	if err != nil {
		return Figures{}, err
	}
	grace := shutdownTimeout + 10*time.Second
	stopped := false
	defer func() {
		if !stopped {
			_ = proc.stop(grace)
		}
		if ph.Own == "" {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _ = deleteKeys(cctx, rdb, id)
		}
	}()
	if err := proc.waitReady(ctx, readyTimeout); err != nil {
		return Figures{}, err
	}

	benchCPU0, redisCPU0 := selfCPUTime(), redisCPUTime(ctx, rdb)
	busy0, total0 := machineTicks()
	load, err := fire(ctx, loadSpec{
		addr: addr, concurrency: ph.Concurrency, duration: cfg.Duration, events: cfg.Events,
		// A request may wait its whole purge deadline, plus the time to
		// be read and answered under load.
		timeout: cfg.PurgeTimeout + 5*time.Second,
		work:    Workload{Pages: ph.Work.Pages, IncidentsPerPage: ph.Work.IncidentsPerPage, StatuspageShare: cfg.StatuspageShare},
		runID:   runID(), secret: creds.webhook, token: creds.statuspage,
	})
	if err != nil {
		return Figures{}, err
	}
	busy1, total1 := machineTicks()
	cpu := cpuUse{
		bench:      selfCPUTime() - benchCPU0,
		redis:      redisCPUTime(ctx, rdb) - redisCPU0,
		machinePct: machinePct(busy0, total0, busy1, total1),
	}
	rss, err := proc.peakRSS()
	if err != nil {
		return Figures{}, err
	}
	stopped = true
	if err := proc.stop(grace); err != nil {
		return Figures{}, fmt.Errorf("stop server: %w; log:\n%s", err, proc.logTail(20))
	}
	var cdn cdnFigures
	throttled := 0
	if stub != nil {
		cdn = summarizeCalls(stub.PurgeCalls())
		throttled = stub.Throttled()
	}
	cpu.server = proc.cpuTime()
	return newFigures(load, cdn, throttled, rss, cpu), nil
}

// runID tells one run's event ids from another's, so that no event of a
// run is ever a duplicate of an earlier run's.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// profilePath is where the server of phase writes its CPU profile; empty
// when profiling is off.
func (cfg Config) profilePath(phase string) string {
	if cfg.ProfileDir == "" {
		return ""
	}
	return filepath.Join(cfg.ProfileDir, phase+".pprof")
}

// coverEnv gives every page of the default rule the cover tag
// page:{page_id}, when cover.
func coverEnv(cover bool) []string {
	if !cover {
		return nil
	}
	return []string{"EDGEPURGE_COVER_TAGS=page:{page_id}"}
}
