// Package harness runs a real, in-process edgepurge (app.New(...).Run) for
// the end-to-end and hostile-input suites under test/: wired to the
// Cloudflare stand-in (test/cfstub) and the shared Redis at 127.0.0.1:6379
// (or a private redis-server), reachable over real HTTP, with helpers to
// send signed events, raw requests and manual purges and to read
// readiness, /metrics and the audit trail. It is test-only: nothing but
// tests imports it.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// The credentials, zone and page of BaseConfig. The tokens are spelled so
// that a leak is easy to grep for.
const (
	TestCFToken     = "cf-token-do-not-leak"
	TestZone        = "023e105f4ecef8ad9ca31a8372d0c353"
	TestSecret      = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	TestSPToken     = "sp-token-do-not-leak"
	TestAPIToken    = "api-token-do-not-leak"
	TestPage        = "p0"
	TestHostA       = "p0.status.example.com"
	TestHostB       = "status.acme.test"
	DefaultTestWait = 10 * time.Second
)

// H is one running edgepurge wired to the Cloudflare stand-in and a
// Redis, reachable over real HTTP.
type H struct {
	T      testing.TB
	Cfg    *config.Config  // the config it runs with, after defaults
	App    *app.App        // the running app
	Stub   *cfstub.Server  // the Cloudflare stand-in; nil if StartWith was given none
	Base   string          // http://host:port of the server
	Prefix string          // the test's Redis key prefix
	Logs   *syncbuf.Buffer // the app's JSON log lines
	halt   func()
}

// BaseConfig is a two-host page p0 with tag, key and key-set templates
// under the test's Redis prefix.
func BaseConfig(prefix, redisURL, cfBase string) *config.Config {
	cfg := &config.Config{
		Listen: "127.0.0.1:0",
		Redis:  cache.Config{URL: redisURL},
		Cloudflare: cloudflare.Config{
			APIToken: TestCFToken, ZoneID: TestZone, BaseURL: cfBase,
			// Each test its own rate-limit bucket in the shared Redis.
			RateLimit: ratelimit.Config{Account: prefix},
		},
		Auth: config.Auth{
			WebhookSecrets:  []purge.Secret{TestSecret},
			StatuspageToken: TestSPToken,
			APIToken:        TestAPIToken,
		},
		Registry: config.Registry{Prefix: prefix + "page:"},
		Dedupe:   config.Dedupe{Prefix: prefix + "seen:"},
		// Each test its own journal: another test's re-driver must never
		// take this one's entries to its own stand-in.
		Journal: config.Journal{Stream: prefix + "journal"},
		Server:  config.Server{DrainDelay: time.Millisecond},
		// The probes' calls would mix into the calls and purged items
		// the suites count; the tests of the probes turn them on.
		Probe: config.Probe{Disabled: true},
		Pages: map[string]config.PageRule{
			TestPage: {
				Hosts:   []string{"{page_id}.status.example.com", TestHostB},
				Tags:    []string{"page:{page_id}"},
				Keys:    []string{prefix + "statuspage:{page_id}:summary", prefix + "statuspage:{page_id}:incident:{incident_id}"},
				KeySets: []string{prefix + "statuspage:{page_id}:fragments"},
			},
		},
	}
	return cfg
}

// Start runs edgepurge with cfg (after edit) against a fresh stand-in.
func Start(t testing.TB, stubOpts cfstub.Options, edit func(cfg *config.Config)) *H {
	t.Helper()
	return StartOn(t, "redis://"+redistest.SharedAddr+"/0", redistest.Prefix(t), stubOpts, edit)
}

// StartOn is Start against the Redis at redisURL (e.g. a private
// redis-server a test stops), with keys under prefix.
func StartOn(t testing.TB, redisURL, prefix string, stubOpts cfstub.Options, edit func(cfg *config.Config)) *H {
	t.Helper()
	if stubOpts.Tokens == nil {
		stubOpts.Tokens = []string{TestCFToken}
	}
	stub := cfstub.New(stubOpts)
	cfBase, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	cfg := BaseConfig(prefix, redisURL, cfBase)
	if edit != nil {
		edit(cfg)
	}
	return StartWith(t, cfg, stub, prefix)
}

// StartWith runs edgepurge with cfg as it is (no stand-in is started;
// stub, which may be nil, is only recorded in H) and stops it when the
// test ends. Outside the integration layer the test is skipped.
func StartWith(t testing.TB, cfg *config.Config, stub *cfstub.Server, prefix string) *H {
	t.Helper()
	integration.Need(t, "Redis at "+cfg.Redis.URL)
	if err := finish(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(cfg, log, app.Build{Version: "test"})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	h := &H{T: t, Cfg: cfg, App: a, Stub: stub, Base: "http://" + ln.Addr().String(), Prefix: prefix, Logs: logs}
	var once sync.Once
	h.halt = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return after cancel")
			}
			a.Close()
		})
	}
	t.Cleanup(h.halt)
	return h
}

// Stop cancels Run's context, as SIGTERM does, waits for Run to return
// and closes the app. It runs at the test's cleanup anyway; calling it
// earlier is safe.
func (h *H) Stop() { h.halt() }

// finish applies defaults and validation the way config.Load does.
func finish(cfg *config.Config) error { return config.Finish(cfg) }

// WaitReady waits until /readyz answers 200.
func (h *H) WaitReady() {
	h.T.Helper()
	deadline := time.Now().Add(DefaultTestWait)
	for time.Now().Before(deadline) {
		if code, r := h.VerboseReadyz(); code == http.StatusOK && allPass(r.Checks) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := h.Get("/readyz?verbose")
	h.T.Fatalf("not ready after %v: %d %s", DefaultTestWait, code, body)
}

// Get sends GET path and returns the status and body.
func (h *H) Get(path string) (int, string) {
	h.T.Helper()
	resp, err := http.Get(h.Base + path)
	if err != nil {
		h.T.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// API sends method path with the bearer token (none when "") and returns
// the status and body: the authenticated JSON API (/v1/purges,
// /v1/backends, /v1/journal…).
func (h *H) API(method, path, token string) (int, string) {
	h.T.Helper()
	req, err := http.NewRequest(method, h.Base+path, nil)
	if err != nil {
		h.T.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Post sends body with headers and returns the status and body.
func (h *H) Post(path string, body []byte, headers map[string]string) (int, []byte) {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodPost, h.Base+path, bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// SendEvent signs body as the core app does and posts it.
func (h *H) SendEvent(id string, body []byte) (int, []byte) {
	h.T.Helper()
	now := time.Now()
	sig, err := webhook.Sign(TestSecret, id, now, body)
	if err != nil {
		h.T.Fatal(err)
	}
	return h.Post("/v1/hooks/events", body, map[string]string{
		"webhook-id": id, "webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": sig,
	})
}

// DecodeAnswer parses b as the JSON answer to an event or purge.
func DecodeAnswer(t *testing.T, b []byte) chain.Answer {
	t.Helper()
	var a chain.Answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, b)
	}
	return a
}

// Sleep waits one polling interval (20 ms).
func Sleep() { time.Sleep(20 * time.Millisecond) }
