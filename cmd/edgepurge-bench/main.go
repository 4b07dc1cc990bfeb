// Command edgepurge-bench is the load generator of `make bench`: it starts
// the Cloudflare stand-in and `edgepurge serve` for each scenario, fires
// signed events at it from many concurrent senders on 127.0.0.1, and prints
// one table with the targets of issue 4. The logic is in internal/bench.
//
//	edgepurge-bench [--scenarios all] [--duration 8s] [--runs 3] [--before-bin PATH] [--json] ...
//	edgepurge-bench storm [--pages 10000] [--within 60s] [--before-bin PATH] [--json]   (issue 10's storm, escalation off and on)
//	edgepurge-bench bare --listen 127.0.0.1:PORT    (the overhead scenario's floor; started by the bench)
//	edgepurge-bench naive --listen 127.0.0.1:PORT   (one Cloudflare call an event, for hot / naive; started by the bench)
//
// With --before-bin, every scenario that runs edgepurge runs with that
// binary too, alternately, and the table sets both side by side (A/B).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/edgepurge/edgepurge/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && (os.Args[1] == "bare" || os.Args[1] == "naive"):
		err = runOwn(ctx, os.Args[1], os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "storm":
		err = runStorm(ctx, os.Args[2:])
	default:
		err = runBench(ctx, os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgepurge-bench:", err)
		os.Exit(1)
	}
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("edgepurge-bench", flag.ExitOnError)
	serverBin := fs.String("server-bin", "bin/edgepurge", "the edgepurge binary to benchmark (`make build` makes it)")
	beforeBin := fs.String("before-bin", "", "another edgepurge binary to compare with, run alternately (A/B)")
	scenarios := fs.String("scenarios", "all", "comma-separated: all, hot, many, overhead, naive (or the phases hot-latency, bare)")
	duration := fs.Duration("duration", bench.DefaultDuration, "how long each run fires events")
	events := fs.Int("events", 0, "end each run after this many events (0: the duration only)")
	runs := fs.Int("runs", bench.DefaultRuns, "runs per scenario; the table shows medians")
	concurrency := fs.String("concurrency", "", `senders: "N" for every phase and/or "phase=N,..." (defaults: hot 1000, hot-latency 64, many 256, overhead 256, bare 256, naive 1000)`)
	share := fs.Float64("statuspage-share", bench.DefaultStatuspageShare, "fraction of events sent Statuspage-shaped (0..1)")
	redisURL := fs.String("redis-url", bench.DefaultRedisURL, "the servers' Redis (loopback only)")
	purgeTimeout := fs.Duration("purge-timeout", bench.DefaultPurgeTimeout, "the server's server.purge_timeout")
	logLevel := fs.String("server-log-level", bench.DefaultLogLevel, "the server's log.level (its log goes to a temp file)")
	profileDir := fs.String("cpuprofile-dir", "", "write the server's CPU profile of each scenario to DIR/SCENARIO.pprof")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of the table")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	_ = fs.Parse(args)

	phases, err := bench.SelectPhases(*scenarios)
	if err != nil {
		return err
	}
	conc, err := bench.ParseConcurrency(*concurrency)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the bench binary for its own handlers: %w", err)
	}
	bin, before, err := absBins(*serverBin, *beforeBin)
	if err != nil {
		return err
	}
	cfg := bench.Config{
		ServerBin: bin, BeforeBin: before, OwnCommand: []string{self}, Phases: phases, Concurrency: conc,
		Duration: *duration, Events: *events, Runs: *runs, StatuspageShare: *share,
		RedisURL: *redisURL, PurgeTimeout: *purgeTimeout, LogLevel: *logLevel, ProfileDir: *profileDir,
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	report, runErr := bench.Run(ctx, cfg)
	if report != nil {
		report.Settings.Command = "edgepurge-bench " + strings.Join(args, " ")
		if *asJSON {
			err = report.WriteJSON(os.Stdout)
		} else {
			err = report.WriteTable(os.Stdout)
		}
	}
	if runErr != nil {
		return runErr
	}
	return err
}

// absBins makes the server binary's path, and the before binary's when
// set, absolute.
func absBins(server, before string) (string, string, error) {
	bin, err := filepath.Abs(server)
	if err != nil {
		return "", "", fmt.Errorf("server binary: %w", err)
	}
	if before != "" {
		if before, err = filepath.Abs(before); err != nil {
			return "", "", fmt.Errorf("before binary: %w", err)
		}
	}
	return bin, before, nil
}

// runOwn serves one of the bench's own handlers (bare, naive); the bench
// starts it as a subprocess with the secrets in the environment, as
// edgepurge gets them.
func runOwn(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("edgepurge-bench "+name, flag.ExitOnError)
	listen := fs.String("listen", "", "127.0.0.1:PORT to serve on")
	_ = fs.Parse(args)
	return bench.ServeOwnFromEnv(ctx, name, *listen)
}

// runStorm runs the storm scenario: distinct pages arriving over a window,
// escalation to their covers off and on, side by side.
func runStorm(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("edgepurge-bench storm", flag.ExitOnError)
	serverBin := fs.String("server-bin", "bin/edgepurge", "the edgepurge binary to benchmark (`make build` makes it)")
	beforeBin := fs.String("before-bin", "", "another edgepurge binary to compare with, each side run with both (A/B)")
	pages := fs.Int("pages", bench.DefaultStormPages, "distinct pages, one incident update each")
	within := fs.Duration("within", bench.DefaultStormWithin, "the window the events arrive in, evenly")
	drain := fs.Duration("drain", bench.DefaultStormDrain, "how long to wait for the journal to re-drive the 202s")
	redisURL := fs.String("redis-url", bench.DefaultRedisURL, "the server's Redis (loopback only)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of the table")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	_ = fs.Parse(args)
	bin, before, err := absBins(*serverBin, *beforeBin)
	if err != nil {
		return err
	}
	cfg := bench.StormConfig{ServerBin: bin, BeforeBin: before, RedisURL: *redisURL, Pages: *pages, Within: *within, Drain: *drain}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	report, runErr := bench.RunStorm(ctx, cfg)
	if report != nil {
		fmt.Printf("command: edgepurge-bench storm %s\n", strings.Join(args, " "))
		if *asJSON {
			err = report.WriteJSON(os.Stdout)
		} else {
			err = report.WriteTable(os.Stdout)
		}
	}
	if runErr != nil {
		return runErr
	}
	return err
}
