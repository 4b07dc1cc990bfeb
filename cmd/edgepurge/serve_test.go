package main

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// TestSecondSignalStopsAtOnce: a person who presses Ctrl-C twice does not
// wait out the drain delay: the second SIGINT ends the process at once,
// with a non-zero exit and a line saying the drain was skipped.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	stub := cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})
	p := proc.Serve(t, stub, "server:\n  drain_delay: 60s\n")
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.Logs.String(), "draining"); {
		if time.Now().After(deadline) {
			t.Fatalf("no drain after the first SIGINT:\n%s", p.Logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p.Logs.String(), "a second SIGINT or SIGTERM stops at once") {
		t.Errorf("the drain's line does not say how to stop at once:\n%s", p.Logs.String())
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := p.Exited(t, 20*time.Second) // the drain delay is 60 s
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit after the second SIGINT: %v, want exit status 1", err)
	}
	if !strings.Contains(p.Logs.String(), "the drain skipped") {
		t.Errorf("no line says the drain was skipped:\n%s", p.Logs.String())
	}
}
