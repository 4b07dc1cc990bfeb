package app

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgepurge/edgepurge/internal/metrics"
)

// TestCDNClientsKeepTheirConnections runs rounds of concurrent calls, as
// a storm does, and checks the second round reuses the first's
// connections instead of dialling again (Go's default transport keeps 2
// idle connections per host and closed the rest).
func TestCDNClientsKeepTheirConnections(t *testing.T) {
	m := metrics.NewOps(prometheus.NewRegistry())
	clients := map[string]*http.Client{
		"cloudflare": cloudflareHTTPClient(m),
		"fastly":     fastlyHTTPClient(m),
	}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			const concurrent = 16
			var dialled atomic.Int64
			release := make(chan struct{})
			var arrived sync.WaitGroup
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived.Done()
				<-release
				io.WriteString(w, `{"success":true,"errors":[],"messages":[],"result":{"id":"x"}}`)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dialled.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()

			round := func() {
				arrived.Add(concurrent)
				var done sync.WaitGroup
				for range concurrent {
					done.Go(func() {
						resp, err := client.Post(srv.URL+"/client/v4/zones/z/purge_cache", "application/json", strings.NewReader(`{}`))
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					})
				}
				arrived.Wait() // all in flight at once
				release <- struct{}{}
				for range concurrent - 1 {
					release <- struct{}{}
				}
				done.Wait()
			}
			round()
			first := dialled.Load()
			round()
			round()
			if first != concurrent {
				t.Fatalf("first round dialled %d connections, want %d", first, concurrent)
			}
			if got := dialled.Load(); got != first {
				t.Errorf("later rounds dialled %d new connections; want them to reuse the first round's %d", got-first, first)
			}
		})
	}
}
