package e2e

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// BenchmarkSignedHookHot measures the server's cost per event on the hot
// path (one page, one incident, coalesced), in process, for profiling:
//
//	go test -run '^$' -bench SignedHookHot -cpuprofile cpu.out ./test/e2e/
func BenchmarkSignedHookHot(b *testing.B) {
	h := harness.Start(b, cfstub.Options{}, func(cfg *config.Config) {
		cfg.Cloudflare.RateLimit.Disabled = benchNoLimit
		// URLs only, as in `make bench`: tag purges have their own, much
		// smaller budget (5 calls/s on Pro), measured separately.
		pr := cfg.Pages[harness.TestPage]
		pr.Tags = nil
		cfg.Pages[harness.TestPage] = pr
	})
	h.WaitReady()
	body := []byte(`{"type":"incident.updated","page_id":"p0","incident_id":"inc1"}`)
	client := &fasthttp.HostClient{Addr: h.Base[len("http://"):], MaxConns: 512}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			id := fmt.Sprintf("msg_bench_%d", seq.Add(1))
			now := time.Now()
			sig, _ := webhook.Sign(harness.TestSecret, id, now, body)
			req.Reset()
			req.SetRequestURI(h.Base + "/v1/hooks/events")
			req.Header.SetMethod("POST")
			req.Header.SetContentType("application/json")
			req.Header.Set("webhook-id", id)
			req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
			req.Header.Set("webhook-signature", sig)
			req.SetBody(body)
			if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
				b.Errorf("status %d: %v %s", resp.StatusCode(), err, resp.Body())
				return
			}
		}
	})
	b.StopTimer()
	calls := h.Stub.PurgeCalls()
	items := 0
	for _, c := range calls {
		items += len(c.Items)
	}
	b.ReportMetric(float64(len(calls))/float64(b.N), "cdn-calls/op")
	if len(calls) > 0 {
		b.ReportMetric(float64(items)/float64(len(calls)), "items/call")
	}
}

var benchNoLimit = os.Getenv("BENCH_NO_LIMIT") != ""
