package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
)

// Naive is what the hot scenario's throughput is compared with: the way a
// service without coalescing purges. It checks and parses each event as
// Bare does, then purges the event's URLs with one Cloudflare call of its
// own, and answers 200 when Cloudflare accepted it: no queue, no batching
// with other events, no rate budget, no retry.
type Naive struct {
	bare   *Bare
	client *http.Client
	// purgeURL is the zone's purge_cache endpoint; auth its Authorization.
	purgeURL, auth string
}

// naivePaths are the paths edgepurge's plan purges for an incident update
// (its common and incident paths, package plan), purged on each of Hosts:
// each call carries as many URLs as a hot event's plan, so that hot /
// naive compares coalescing, not plans.
var naivePaths = []string{"/", "/history", "/history.rss", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json",
	"/embed/script.js", "/embed/frame", "/incidents/{incident_id}", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"}

// naiveCallTimeout bounds one call to the stand-in, as the server's
// default purge timeout bounds a purge.
const naiveCallTimeout = DefaultPurgeTimeout

// NewNaive returns the naive handler: bare's checks, then purges through
// the Cloudflare API at baseURL (ending in "/") with token, in zone.
func NewNaive(bare *Bare, baseURL, token, zone string) *Naive {
	return &Naive{
		bare: bare,
		client: &http.Client{
			Timeout: naiveCallTimeout,
			// As many connections as the senders: every event's call is
			// its own.
			Transport: &http.Transport{MaxIdleConnsPerHost: 4096, MaxIdleConns: 4096},
		},
		purgeURL: baseURL + "zones/" + zone + "/purge_cache",
		auth:     "Bearer " + token,
	}
}

// naiveURLs are the URLs the naive handler purges for ev.
func naiveURLs(ev event.Event) []string {
	var out []string
	for host := range strings.SplitSeq(Hosts, ",") {
		host = strings.ReplaceAll(host, "{page_id}", ev.PageID)
		for _, p := range naivePaths {
			out = append(out, "https://"+host+strings.ReplaceAll(p, "{incident_id}", ev.IncidentID))
		}
	}
	return out
}

// Handle serves one request as Bare.Handle does, purging each event.
func (n *Naive) Handle(ctx *fasthttp.RequestCtx) {
	ev, ok := n.bare.event(ctx)
	if !ok {
		return
	}
	status, err := n.purge(ev)
	if err != nil {
		ctx.Error(fmt.Sprintf(`{"error":%q}`, err.Error()), fasthttp.StatusBadGateway)
		return
	}
	if status != http.StatusOK {
		ctx.Error(fmt.Sprintf(`{"error":"cloudflare answered %d"}`, status), fasthttp.StatusServiceUnavailable)
		return
	}
	answer(ctx, ev)
}

// purge makes ev's one purge call and returns Cloudflare's status.
func (n *Naive) purge(ev event.Event) (int, error) {
	body, err := json.Marshal(map[string][]string{"files": naiveURLs(ev)})
	if err != nil {
		return 0, fmt.Errorf("encode the purge: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, n.purgeURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("make the purge call: %w", err)
	}
	req.Header.Set("Authorization", n.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("purge call: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	return resp.StatusCode, nil
}

// naiveEnv is the environment the naive handler reads its Cloudflare
// settings from (edgepurge's names), beside the secrets bare reads.
func naiveEnv(stubURL, token string) []string {
	return []string{"CLOUDFLARE_BASE_URL=" + stubURL, "CLOUDFLARE_API_TOKEN=" + token, "CLOUDFLARE_ZONE_ID=" + benchZone}
}

// ServeOwnFromEnv serves the bench's own handler name ("bare" or "naive")
// on addr until ctx ends, with the secrets (and, for naive, the Cloudflare
// settings) in the environment, as edgepurge gets them.
func ServeOwnFromEnv(ctx context.Context, name, addr string) error {
	bare, err := NewBare(strings.Split(os.Getenv("EDGEPURGE_WEBHOOK_SECRETS"), ","), os.Getenv("EDGEPURGE_STATUSPAGE_TOKEN"))
	if err != nil {
		return err
	}
	switch name {
	case "bare":
		return ServeOwn(ctx, name, addr, bare.Handle)
	case "naive":
		n := NewNaive(bare, os.Getenv("CLOUDFLARE_BASE_URL"), os.Getenv("CLOUDFLARE_API_TOKEN"), os.Getenv("CLOUDFLARE_ZONE_ID"))
		return ServeOwn(ctx, name, addr, n.Handle)
	}
	return fmt.Errorf("no handler %q: want bare or naive", name)
}
