package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// loadJob is one request of the hostile load and the status it must get.
type loadJob struct {
	method, path string
	headers      map[string]string
	body         []byte
	want         int
	goodURL      string // for a good request: the URL it alone purges
}

const (
	loadBad         = 3000
	loadGood        = 200
	loadConcurrency = 64
)

// loadJobs interleaves loadBad bad requests of a dozen kinds with loadGood
// good ones (every 16th request), each good one purging a URL of its own on
// page "load".
func loadJobs(t *testing.T) []loadJob {
	good := func(i int) loadJob {
		url := fmt.Sprintf("https://load.example.com/u/%d", i)
		body := fmt.Sprintf(`{"type":"incident.updated","page_id":"load","incident_id":"i%d","urls":[%q]}`, i, url)
		return loadJob{method: "POST", path: "/v1/hooks/events", body: []byte(body),
			headers: harness.SignedHeaders(t, harness.TestSecret, fmt.Sprintf("msg_load_good_%d", i), 0, body), want: 200, goodURL: url}
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	valid := `{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`
	bad := func(i int) loadJob {
		id := fmt.Sprintf("msg_load_bad_%d", i)
		signed := func(body string) loadJob {
			return loadJob{method: "POST", path: "/v1/hooks/events", body: []byte(body), headers: harness.SignedHeaders(t, harness.TestSecret, id, 0, body), want: 400}
		}
		switch i % 12 {
		case 0:
			return loadJob{method: "POST", path: "/v1/hooks/events", body: []byte(valid), headers: jsonCT, want: 401}
		case 1:
			return signed(`{"type":"incident.updated","page_id":`)
		case 2:
			return signed(`{"type":"incident.updated"}`)
		case 3:
			return loadJob{method: "POST", path: "/v1/hooks/statuspage/guess", body: []byte(valid), headers: jsonCT, want: 401}
		case 4:
			return loadJob{method: "GET", path: "/v1/hooks/events", want: 405}
		case 5:
			return loadJob{method: "POST", path: "/v1/hooks/evil", body: []byte(valid), headers: jsonCT, want: 404}
		case 6:
			return loadJob{method: "POST", path: "/v1/hooks/events", body: []byte(valid),
				headers: harness.With(harness.SignedHeaders(t, harness.TestSecret, id, 0, valid), "Content-Type", "text/plain"), want: 415}
		case 7:
			return loadJob{method: "POST", path: "/v1/purge", body: []byte(valid), headers: harness.With(jsonCT, "Authorization", "Bearer guess"), want: 401}
		case 8:
			return loadJob{method: "POST", path: "/v1/hooks/events", body: []byte(valid), headers: harness.SignedHeaders(t, harness.TestSecret, id, -time.Hour, valid), want: 401}
		case 9:
			return signed(`{"page_id":"p0","page_id":"p1"}`)
		case 10:
			return loadJob{method: "POST", path: "/v1/hooks/statuspage/" + harness.TestSPToken, body: []byte(`{"page":{"id":"p/0"},"incident":{"id":"i1"}}`), headers: jsonCT, want: 400}
		default:
			j := signed(`{"type":"incident.updated","page_id":"nope"}`)
			j.want = 422
			return j
		}
	}
	jobs := make([]loadJob, 0, loadBad+loadGood)
	for b, g := 0, 0; b < loadBad || g < loadGood; {
		if g < loadGood && (len(jobs)%16 == 15 || b == loadBad) {
			jobs = append(jobs, good(g))
			g++
		} else {
			jobs = append(jobs, bad(b))
			b++
		}
	}
	return jobs
}

func TestHostileLoad(t *testing.T) {
	h := harness.Start(t, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Pages["load"] = config.PageRule{
			Hosts: []string{"load.example.com"},
			Paths: &config.Paths{Common: []string{"/"}, Incident: []string{}, Component: []string{}, Maintenance: []string{}},
		}
	})
	h.WaitReady()
	seeded := h.SeedRedis()
	jobs := loadJobs(t)
	// Warm up, so that connections that stay open (the SDK's keep-alive to
	// the stand-in, Redis) are in the baseline.
	if code, raw := h.SendEvent("msg_load_warmup", []byte(`{"type":"incident.updated","page_id":"load","incident_id":"w"}`)); code != 200 {
		t.Fatalf("warm-up: %d %s", code, raw)
	}
	h.Stub.Reset()
	before := countGoroutines().busy

	transport := &http.Transport{MaxIdleConnsPerHost: loadConcurrency, MaxConnsPerHost: loadConcurrency}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	type outcome struct {
		job    int
		status int
		err    error
	}
	work := make(chan int)
	outcomes := make(chan outcome, len(jobs))
	began := time.Now()
	var wg sync.WaitGroup
	for range loadConcurrency {
		wg.Go(func() {
			for i := range work {
				j := jobs[i]
				req, _ := http.NewRequest(j.method, h.Base+j.path, bytes.NewReader(j.body))
				for k, v := range j.headers {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					outcomes <- outcome{job: i, err: err}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				outcomes <- outcome{job: i, status: resp.StatusCode}
			}
		})
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	close(outcomes)
	elapsed := time.Since(began)

	wrong := map[string]int{}
	for o := range outcomes {
		if o.err != nil || o.status != jobs[o.job].want {
			key := fmt.Sprintf("%s %s: got %d (%v), want %d", jobs[o.job].method, jobs[o.job].path, o.status, o.err, jobs[o.job].want)
			wrong[key]++
		}
	}
	for k, n := range wrong {
		t.Errorf("%d× %s", n, k)
	}
	purged := h.Stub.URLsPurged(harness.TestZone)
	for _, j := range jobs {
		if j.goodURL != "" && !slices.Contains(purged, j.goodURL) {
			t.Errorf("good request's %s was not purged at the stand-in", j.goodURL)
		}
	}
	// Only the good requests' URLs (and the page's "/") reached the stand-in.
	if len(purged) != loadGood+1 {
		t.Errorf("the stand-in purged %d URLs, want %d", len(purged), loadGood+1)
	}
	for _, k := range seeded.Keys {
		if n, _ := redistest.Client(t).Exists(context.Background(), k).Result(); n != 1 {
			t.Errorf("seeded key %s is gone", k)
		}
	}
	t.Logf("%d requests (%d bad, %d good) at concurrency %d in %v", len(jobs), loadBad, loadGood, loadConcurrency, elapsed)

	// Alive afterwards.
	if code, raw := h.SendEvent("msg_load_after", []byte(`{"type":"incident.updated","page_id":"load","incident_id":"after"}`)); code != 200 {
		t.Errorf("after the load: %d %s", code, raw)
	}
	// No goroutine leak: once the client's connections are closed, the
	// process is back near its baseline. Idle fasthttp workers, which wait
	// (up to 10 s) for the next connection, are not counted, nor are the
	// CDN client's kept connections (two goroutines each), which must stay
	// within what the call slots can have open: one a call in flight, for
	// URLs and tags.
	transport.CloseIdleConnections()
	const margin = 8
	maxCDNConns := 2 * cloudflare.DefaultMaxInflightCalls
	deadline := time.Now().Add(15 * time.Second)
	g := countGoroutines()
	for g.busy > before+margin && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		g = countGoroutines()
	}
	t.Logf("goroutines: %d before, %d after (and %d idle fasthttp workers, %d of kept CDN connections)", before, g.busy, g.idleWorkers, g.cdnConns)
	if g.busy > before+margin {
		t.Errorf("goroutines: %d before the load, %d after (margin %d): a leak", before, g.busy, margin)
	}
	if g.cdnConns > 2*maxCDNConns {
		t.Errorf("%d goroutines of kept CDN connections, want at most %d (2 for each of %d connections)", g.cdnConns, 2*maxCDNConns, maxCDNConns)
	}
}

// goroutines counts a process's goroutines: idle fasthttp workers, those of
// the HTTP client's kept connections, and the rest (busy).
type goroutines struct{ busy, idleWorkers, cdnConns int }

func countGoroutines() goroutines {
	var c goroutines
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "(*workerPool).workerFunc") && !strings.Contains(g, "serveConn"):
			c.idleWorkers++
		case strings.Contains(g, "net/http.(*persistConn).readLoop") || strings.Contains(g, "net/http.(*persistConn).writeLoop"):
			c.cdnConns++
		default:
			c.busy++
		}
	}
	return c
}
