package server

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
)

// deepRecursion uses about n KiB of stack.
func deepRecursion(n int) int {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deepRecursion(n-1) + int(pad[n%len(pad)])
}

func TestDeepWorkRunsAndReturns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newDeepWork(ctx)
	var wg sync.WaitGroup
	results := make([]int, 64)
	for i := range results {
		wg.Go(func() { d.run(func() { results[i] = deepRecursion(32) + i }) })
	}
	wg.Wait()
	for i, r := range results {
		if r != deepRecursion(32)+i {
			t.Fatalf("job %d: %d", i, r)
		}
	}
	// The work runs on a worker, not on the caller's goroutine (whose
	// stack must stay small): the caller's frames are not under it.
	var stack []byte
	d.run(func() { stack = make([]byte, 64<<10); stack = stack[:runtime.Stack(stack, false)] })
	if bytes.Contains(stack, []byte("(*deepWork).run(")) || !bytes.Contains(stack, []byte("(*deepWork).work(")) {
		t.Errorf("the work ran on the caller's goroutine:\n%s", stack)
	}
}

// A panic in the work is the caller's, as if the work had run there.
func TestDeepWorkPanicsOnTheCaller(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newDeepWork(ctx)
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the work's panic", p)
		}
	}()
	d.run(func() { panic("boom") })
	t.Error("run returned after a panic")
}

// After the server's context ends, work still runs, on the caller.
func TestDeepWorkAfterStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDeepWork(ctx)
	d.run(func() {}) // the workers start
	cancel()
	ran := false
	d.run(func() { ran = true })
	if !ran {
		t.Error("work did not run after the stop")
	}
}
