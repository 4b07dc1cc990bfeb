package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// A storm of distinct pages behind a small URL budget: pages with a cover
// (the default rule's page:{page_id}) are purged by it once the URL queue
// backs up; every event is answered 200 and says how its page was purged;
// the escalations are counted; neither bucket answers 429.
func TestStormEscalatesPagesToTheirCover(t *testing.T) {
	h := harness.Start(t, cfstub.Options{URLRate: 100, URLBurst: 100, FlexRate: 5, FlexBurst: 25}, func(cfg *config.Config) {
		cfg.Defaults = &config.PageRule{
			Hosts: []string{"{page_id}.status.example.com"},
			Cover: &config.Cover{Tags: []string{"page:{page_id}"}},
		}
		cfg.Cloudflare.RateLimit.URLsPerSecond, cfg.Cloudflare.RateLimit.URLBurst = 100, 100
		cfg.Cloudflare.RateLimit.CallsPerSecond, cfg.Cloudflare.RateLimit.CallBurst = 5, 25
	})
	h.WaitReady()
	var wg sync.WaitGroup
	var mu sync.Mutex
	byCover, codes := 0, map[int]int{}
	for i := range 60 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"type":"incident.updated","page_id":"storm%d","incident_id":"i1"}`, i)
			code, raw := h.SendEvent(harness.EventID(t, i), []byte(body))
			mu.Lock()
			defer mu.Unlock()
			codes[code]++
			if code != http.StatusOK {
				t.Errorf("page storm%d: %d %s", i, code, raw)
				return
			}
			a := harness.DecodeAnswer(t, raw)
			if a.Plan.Cover == nil || a.Plan.Cover.Tags[0] != fmt.Sprintf("page:storm%d", i) {
				t.Errorf("page storm%d: plan without its cover: %s", i, raw)
			}
			if r := a.Results[0]; r.PurgedBy == "cover" {
				byCover++
				if r.Escalation == "" || r.Items != len(a.Plan.URLs) {
					t.Errorf("page storm%d by cover: %+v", i, r)
				}
			}
		})
	}
	wg.Wait()
	if byCover == 0 {
		t.Errorf("no page was purged by its cover: %v", codes)
	}
	if n := h.Counter("edgepurge_cdn_escalations_total", map[string]string{"backend": "cloudflare"}); int(n) != byCover {
		t.Errorf("escalations counted %v, answers %d", n, byCover)
	}
	if n := h.Stub.Throttled(); n != 0 {
		t.Errorf("%d 429s", n)
	}
	t.Logf("60 pages: %d by cover", byCover)
}
