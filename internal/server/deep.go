package server

import (
	"context"
	"runtime"
	"sync"
)

// deepWork runs work whose stack goes deep on a few goroutines of its own:
// encoding/json decoding a Statuspage body that the one-pass decoder
// leaves to it (see statuspage.ParseFast) (objects three and four levels
// down) on top of fasthttp's and the handlers' frames passes the 8 KiB a
// goroutine starts with. A request's goroutine whose stack doubled once
// keeps 16 KiB while its event waits on the CDN, and doubles again each
// time the GC has shrunk it: measured at 1,000 senders with 10 %
// Statuspage deliveries, 17.1 MB of stacks against 9.3 MB without them,
// and stack copies in the CPU profile. The workers' stacks grow once.
//
// A panic in the work is raised again on the caller's goroutine, where the
// server's recovery answers it. After the server's context ends (shutdown),
// work runs on the caller's goroutine.
type deepWork struct {
	stop  <-chan struct{}
	start sync.Once
	jobs  chan *deepJob
	pool  sync.Pool // of *deepJob
}

// deepJob is one call of run: its work, and the panic it raised.
type deepJob struct {
	fn       func()
	panicked any
	done     chan struct{}
}

func newDeepWork(ctx context.Context) *deepWork {
	d := &deepWork{stop: ctx.Done(), jobs: make(chan *deepJob)}
	d.pool.New = func() any { return &deepJob{done: make(chan struct{}, 1)} }
	return d
}

// run runs fn on a worker and returns when it has returned.
func (d *deepWork) run(fn func()) {
	d.start.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			go d.work()
		}
	})
	j := d.pool.Get().(*deepJob)
	j.fn, j.panicked = fn, nil
	select {
	case d.jobs <- j:
		<-j.done
	case <-d.stop:
		fn()
	}
	p := j.panicked
	j.fn, j.panicked = nil, nil
	d.pool.Put(j)
	if p != nil {
		panic(p)
	}
}

// work runs jobs until the server stops.
func (d *deepWork) work() {
	for {
		select {
		case j := <-d.jobs:
			d.do(j)
		case <-d.stop:
			return
		}
	}
}

// do runs one job, keeping its panic for run.
func (d *deepWork) do(j *deepJob) {
	defer func() {
		j.panicked = recover()
		j.done <- struct{}{}
	}()
	j.fn()
}
