package app

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

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/fanout"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

const (
	testCFToken     = "cf-token-do-not-leak"
	testZone        = "023e105f4ecef8ad9ca31a8372d0c353"
	testSecret      = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testSPToken     = "sp-token-do-not-leak"
	testAPIToken    = "api-token-do-not-leak"
	testPage        = "p0"
	testHostA       = "p0.status.example.com"
	testHostB       = "status.acme.test"
	defaultTestWait = 10 * time.Second
)

// harness is one running edgepurge wired to the Cloudflare stand-in and a
// Redis, reachable over real HTTP.
type harness struct {
	t      testing.TB
	cfg    *config.Config
	app    *App
	stub   *cfstub.Server
	base   string
	prefix string
	logs   *syncBuffer
	stop   func()
}

// syncBuffer collects the app's log lines.
type syncBuffer = syncbuf.Buffer

// baseConfig is a two-host page p0 with tag, key and key-set templates
// under the test's Redis prefix.
func baseConfig(prefix, redisURL, cfBase string) *config.Config {
	cfg := &config.Config{
		Listen: "127.0.0.1:0",
		Redis:  config.Redis{URL: redisURL},
		Cloudflare: config.Cloudflare{
			APIToken: testCFToken, ZoneID: testZone, BaseURL: cfBase,
			// Each test its own rate-limit bucket in the shared Redis.
			RateLimit: config.RateLimit{Account: prefix},
		},
		Auth: config.Auth{
			WebhookSecrets:  []config.Secret{testSecret},
			StatuspageToken: testSPToken,
			APIToken:        testAPIToken,
		},
		Registry: config.Registry{Prefix: prefix + "page:"},
		Dedupe:   config.Dedupe{Prefix: prefix + "seen:"},
		// Each test its own journal: another test's re-driver must never
		// take this one's entries to its own stand-in.
		Journal: config.Journal{Stream: prefix + "journal"},
		Server:  config.Server{DrainDelay: time.Millisecond},
		Pages: map[string]config.PageRule{
			testPage: {
				Hosts:   []string{"{page_id}.status.example.com", testHostB},
				Tags:    []string{"page:{page_id}"},
				Keys:    []string{prefix + "statuspage:{page_id}:summary", prefix + "statuspage:{page_id}:incident:{incident_id}"},
				KeySets: []string{prefix + "statuspage:{page_id}:fragments"},
			},
		},
	}
	return cfg
}

// start runs edgepurge with cfg (after edit) against a fresh stand-in.
func start(t testing.TB, stubOpts cfstub.Options, edit func(cfg *config.Config)) *harness {
	t.Helper()
	return startOn(t, "redis://"+redistest.SharedAddr+"/0", redistest.Prefix(t), stubOpts, edit)
}

// startOn is start against the Redis at redisURL (e.g. a private
// redis-server a test stops), with keys under prefix.
func startOn(t testing.TB, redisURL, prefix string, stubOpts cfstub.Options, edit func(cfg *config.Config)) *harness {
	t.Helper()
	if stubOpts.Tokens == nil {
		stubOpts.Tokens = []string{testCFToken}
	}
	stub := cfstub.New(stubOpts)
	cfBase, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	cfg := baseConfig(prefix, redisURL, cfBase)
	if edit != nil {
		edit(cfg)
	}
	return startWith(t, cfg, stub, prefix)
}

func startWith(t testing.TB, cfg *config.Config, stub *cfstub.Server, prefix string) *harness {
	t.Helper()
	if err := finish(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, log, Build{Version: "test"})
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
	h := &harness{t: t, cfg: cfg, app: a, stub: stub, base: "http://" + ln.Addr().String(), prefix: prefix, logs: logs}
	var once sync.Once
	h.stop = func() {
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
	t.Cleanup(h.stop)
	return h
}

// finish applies defaults and validation the way config.Load does.
func finish(cfg *config.Config) error { return config.Finish(cfg) }

// waitReady waits until /readyz answers 200.
func (h *harness) waitReady() {
	h.t.Helper()
	deadline := time.Now().Add(defaultTestWait)
	for time.Now().Before(deadline) {
		if code, _ := h.get("/readyz"); code == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := h.get("/readyz")
	h.t.Fatalf("not ready after %v: %d %s", defaultTestWait, code, body)
}

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.base + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends body with headers and returns the status and body.
func (h *harness) post(path string, body []byte, headers map[string]string) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// sendEvent signs body as the core app does and posts it.
func (h *harness) sendEvent(id string, body []byte) (int, []byte) {
	h.t.Helper()
	now := time.Now()
	sig, err := webhook.Sign(testSecret, id, now, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.post("/v1/hooks/events", body, map[string]string{
		"webhook-id": id, "webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": sig,
	})
}

func decodeAnswer(t *testing.T, b []byte) fanout.Answer {
	t.Helper()
	var a fanout.Answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, b)
	}
	return a
}

func sleep() { time.Sleep(20 * time.Millisecond) }
