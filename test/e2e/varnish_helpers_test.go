package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/varnish"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

// The page of examples/statuspage-incident.json.
const (
	spPage     = "p7xk3m9q2w1z"
	spIncident = "i8d3f0g5h2j4"
	spHost     = spPage + ".status.example.com"
)

// spIncidentPaths are what that notification purges on each host.
var spIncidentPaths = []string{
	"/", "/history", "/history.rss", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json",
	"/embed/script.js", "/embed/frame",
	"/incidents/" + spIncident, "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json",
}

// statusOrigin is the status page's origin behind Varnish. It serves every
// path of every host with the current content version, cacheable for an
// hour, tagged page:{first label of the host}: as an xkey header, or as a
// Cloudflare-style Cache-Tag under /incidents/ (which the VCL maps to
// xkey); /robots.txt is untagged. /history varies on Accept.
type statusOrigin struct {
	srv     *httptest.Server
	version atomic.Int32
}

func newStatusOrigin(t *testing.T) *statusOrigin {
	o := &statusOrigin{}
	o.version.Store(1)
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

// addr is the origin's host:port, for the VCL's backend.
func (o *statusOrigin) addr() string { return strings.TrimPrefix(o.srv.URL, "http://") }

// publish changes the content: the next fetch from the origin gets version v.
func (o *statusOrigin) publish(v int) { o.version.Store(int32(v)) }

func (o *statusOrigin) serve(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	page, _, _ := strings.Cut(host, ".")
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	switch {
	case r.URL.Path == "/robots.txt":
	case strings.HasPrefix(r.URL.Path, "/incidents/"):
		h.Set("Cache-Tag", "page:"+page+",incident:"+strings.TrimPrefix(r.URL.Path, "/incidents/"))
	default:
		h.Set("xkey", "page:"+page)
	}
	if r.URL.Path == "/history" {
		h.Set("Vary", "Accept")
	}
	fmt.Fprint(w, content(host, r.URL.Path, r.Header.Get("Accept"), int(o.version.Load())))
}

// content is what the origin serves for a page at a version.
func content(host, path, accept string, version int) string {
	if strings.Contains(accept, "application/json") {
		return fmt.Sprintf(`{"host":%q,"path":%q,"version":%d}`, host, path, version)
	}
	return fmt.Sprintf("<p>%s%s version %d</p>", host, path, version)
}

// read is a reader's request: a path on a host, with an Accept header.
type read struct {
	host, path, accept string
}

func (r read) String() string { return r.host + r.path + " (Accept: " + r.accept + ")" }

// fetch reads r through the cache at addr and returns the body and X-Cache.
func fetch(t *testing.T, addr string, r read) (body, xcache string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+r.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = r.host
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", r, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", r, resp.StatusCode, b)
	}
	return string(b), resp.Header.Get("X-Cache")
}

// expectRead fetches r through addr and wants the content of version from
// the cache (HIT) or not (MISS).
func expectRead(t *testing.T, addr string, r read, version int, xcache string) {
	t.Helper()
	body, got := fetch(t, addr, r)
	if want := content(r.host, r.path, r.accept, version); body != want || got != xcache {
		t.Errorf("GET %s: %s %q, want %s %q", r, got, body, xcache, want)
	}
}

// warm fetches every read twice, so that each is cached (MISS, then HIT).
func warm(t *testing.T, addr string, version int, reads ...read) {
	t.Helper()
	for _, r := range reads {
		expectRead(t, addr, r, version, "MISS")
		expectRead(t, addr, r, version, "HIT")
	}
}

// startVarnishApp runs edgepurge purging the Varnish nodes only (no
// Cloudflare) for the page of the Statuspage example.
func startVarnishApp(t *testing.T, nodes []string, edit func(cfg *config.Config)) *harness.H {
	t.Helper()
	prefix := redistest.Prefix(t)
	cfg := harness.BaseConfig(prefix, "redis://"+redistest.SharedAddr+"/0", "")
	cfg.Cloudflare = cloudflare.Config{}
	cfg.Varnish = varnish.Config{Nodes: nodes}
	cfg.Pages[spPage] = config.PageRule{Hosts: []string{"{page_id}.status.example.com"}, Tags: []string{"page:{page_id}"}}
	if edit != nil {
		edit(cfg)
	}
	h := harness.StartWith(t, cfg, nil, prefix)
	h.WaitReady()
	return h
}

// purgeFrom sends method to the Varnish at addr from the local address
// from (any 127.0.0.0/8 address is local) and returns the status.
func purgeFrom(t *testing.T, from, addr, method, host, path string, header map[string]string) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext,
	}}
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s from %s: %v", method, from, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// racingEdge stands in for an edge that re-caches an old copy from a
// parent not yet purged: as a purge target it counts the PURGEs of each
// path, and it serves a path as an old cached copy (Age: 100, HIT) until it
// has been purged twice, then as a fresh one (Age: 0, MISS).
type racingEdge struct {
	srv    *httptest.Server
	mu     sync.Mutex
	purges map[string]int
}

func newRacingEdge(t *testing.T) *racingEdge {
	e := &racingEdge{purges: map[string]int{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if r.Method == "PURGE" {
			if r.Header.Get("xkey") == "" {
				e.purges[r.Host+r.URL.Path]++
			}
			return
		}
		if e.purges[r.Host+r.URL.Path] < 2 {
			w.Header().Set("Age", "100")
			w.Header().Set("X-Cache", "HIT")
		} else {
			w.Header().Set("Age", "0")
			w.Header().Set("X-Cache", "MISS")
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}
