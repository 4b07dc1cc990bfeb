package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/client"
	"github.com/edgepurge/edgepurge/internal/event"
)

// purgeDirect is the break-glass purge: in-process, from the config, with
// the service's own planner and purgers, no server involved. Output and
// exit codes are the server path's.
func purgeDirect(cmd *cobra.Command, g *globalFlags, req event.ManualRequest, asJSON bool, timeout time.Duration) error {
	cfg, err := g.load()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if g.logLevel == "" {
		// The person on call wants the answer, not the service's info lines.
		cfg.Log.Level = "warn"
	}
	log := app.NewLogger(cfg.Log, os.Stderr)
	redis.SetLogger(app.NewRedisLogger(log))
	d, err := app.NewDirect(cfg, log, app.Build{Version: version, Commit: commit})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer d.Close()
	ev, err := req.Event(directID())
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	a, err := d.Purge(ctx, ev, req.DryRun)
	if err != nil {
		fmt.Fprintln(cmd.OutOrStdout(), err)
		return &exitError{code: 1, err: fmt.Errorf("purge not made: %w", err)}
	}
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a)
	} else {
		client.WriteTable(out, &a)
	}
	if !a.OK() {
		return &exitError{code: 1, err: fmt.Errorf("purge not complete (%s)", a.Status)}
	}
	return nil
}

// directID names a direct purge in answers and the audit trail.
func directID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "direct_" + hex.EncodeToString(b)
}
