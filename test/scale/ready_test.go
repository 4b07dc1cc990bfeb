package scale

import (
	"fmt"
	"sync"
	"time"
)

// redisWatch polls every instance's /readyz?verbose and records the shared
// check `redis`: when it was seen failing, and whether /readyz itself ever
// answered unready.
type redisWatch struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	samples map[string][]sample // instance → samples in time order
}

type sample struct {
	at       time.Time
	ok       bool // the redis check's ok
	ready    bool // /readyz's verdict
	answered bool // /readyz answered at all
}

// interval is one stretch during which an instance's redis check failed.
type interval struct{ from, to time.Time }

func (i interval) String() string {
	return fmt.Sprintf("%s–%s (%s)", i.from.Format("15:04:05.000"), i.to.Format("15:04:05.000"), i.to.Sub(i.from).Round(time.Millisecond))
}

const watchEvery = 100 * time.Millisecond

func watchRedis(insts []*instance) *redisWatch {
	w := &redisWatch{stop: make(chan struct{}), samples: map[string][]sample{}}
	for _, in := range insts {
		w.wg.Go(func() {
			t := time.NewTicker(watchEvery)
			defer t.Stop()
			for {
				s := sample{at: time.Now()}
				if v, err := readyz(in); err == nil {
					c, ok := v.check("redis")
					s.answered, s.ready, s.ok = true, v.Ready, ok && c.OK
				}
				w.mu.Lock()
				w.samples[in.name] = append(w.samples[in.name], s)
				w.mu.Unlock()
				select {
				case <-w.stop:
					return
				case <-t.C:
				}
			}
		})
	}
	return w
}

func (w *redisWatch) close() {
	close(w.stop)
	w.wg.Wait()
}

// red returns the stretches during which name's redis check failed: from
// the first failing sample to the next passing one.
func (w *redisWatch) red(name string) []interval {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []interval
	var from time.Time
	for _, s := range w.samples[name] {
		switch {
		case !s.ok && from.IsZero():
			from = s.at
		case s.ok && !from.IsZero():
			out = append(out, interval{from, s.at})
			from = time.Time{}
		}
	}
	if !from.IsZero() {
		out = append(out, interval{from, time.Time{}})
	}
	return out
}

// unready counts the samples in which name's /readyz answered not ready,
// and those it did not answer within the probe client's timeout.
func (w *redisWatch) unready(name string) (notReady, unanswered int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.samples[name] {
		switch {
		case !s.answered:
			unanswered++
		case !s.ready:
			notReady++
		}
	}
	return notReady, unanswered
}
