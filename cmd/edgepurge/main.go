// Command edgepurge purges the CDN and Redis caches of public status pages
// in the same request that reports a change. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Set by the build (-ldflags "-X main.version=... -X main.commit=...").
var (
	version = "dev"
	commit  = "unknown"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "edgepurge:", ee.err)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "edgepurge:", err)
		os.Exit(2)
	}
}

// globalFlags are shared by every command.
type globalFlags struct {
	config    string
	logFormat string
	logLevel  string
}

func newRoot() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "edgepurge",
		Short:         "Purge the CDN and Redis caches of public status pages, synchronously",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.config, "config", "", "YAML config file (default: $EDGEPURGE_CONFIG; none: environment only)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "", "log format: json or text (overrides the config)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides the config)")
	root.AddCommand(newServe(g), newPurge(g), newHealth(g), newVersion(), newCheck(g), newLog(), newJournal(g), newReplay(g), newPages())
	return root
}

// configPath is --config, else $EDGEPURGE_CONFIG.
func (g *globalFlags) configPath() string {
	if g.config != "" {
		return g.config
	}
	return os.Getenv("EDGEPURGE_CONFIG")
}

// noArgs refuses arguments saying so (cobra.NoArgs calls an argument an
// unknown command), without quoting them: one may be a misplaced token.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, only flags (got %d); see %s --help", cmd.Name(), len(args), cmd.CommandPath())
	}
	return nil
}
