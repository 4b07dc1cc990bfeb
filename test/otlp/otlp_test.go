// Package otlp runs a real `edgepurge serve` with tracing on (the standard
// OTEL_EXPORTER_OTLP_ENDPOINT) against an OTLP/HTTP receiver inside the
// test, which decodes what the real exporter sends with the protocol's own
// protobuf types (go.opentelemetry.io/proto/otlp), and checks the traces
// of Statuspage-shaped events: the tree of one event, its wait in the CDN
// queue, a batched call's links to each event it carried, a re-drive's
// link to the event's original trace, the continuation of a caller's
// traceparent, and that no secret is in any span. It also checks that
// /debug/pprof/ is on the admin listener and not on the public one, and
// that the histograms carry exemplars in the OpenMetrics exposition.
package otlp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
	"github.com/edgepurge/edgepurge/test/testkit/syncbuf"
)

// TestMain builds the real binary once.
func TestMain(m *testing.M) { proc.Main(m) }

// Secrets of the test's process: none may appear in a span.
const (
	statuspageToken = "sp-path-token-0123456789abcdef"
	webhookSecret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// world is one test's edgepurge process and what it talks to.
type world struct {
	t     *testing.T
	recv  *receiver
	stub  *cfstub.Server
	base  string // the public listener
	admin string // the admin listener
	logs  *syncbuf.Buffer
}

// start runs `edgepurge serve` with tracing on, every span sampled and
// exported every 100 ms, one Cloudflare call in flight at a time (so that
// events arriving during a call are batched into the next), and a fast
// re-driver.
func start(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, recv: newReceiver(t), stub: cfstub.New(cfstub.Options{Tokens: []string{proc.CFToken}})}
	cfBase, err := w.stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.stub.Close)
	prefix := redistest.Prefix(t)
	cfg := fmt.Sprintf(`server:
  purge_timeout: 1s
cloudflare:
  max_inflight_calls: 1
  breaker: {cooldown: 200ms}
  rate_limit:
    urls_per_second: 100000
    calls_per_second: 1000
    account: "%[1]s"
registry:
  prefix: "%[1]spage:"
dedupe:
  prefix: "%[1]sseen:"
audit:
  stream: "%[1]saudit"
journal:
  stream: "%[1]sjournal"
  poll: 50ms
  claim_idle: 1s
probe:
  disabled: true
tracing:
  instance: otlp-test
`, prefix)
	path := filepath.Join(t.TempDir(), "edgepurge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, admin := proc.FreeAddr(t), proc.FreeAddr(t)
	w.base, w.admin = "http://"+addr, "http://"+admin
	cmd := exec.Command(proc.Binary(), "serve")
	cmd.Env = append(os.Environ(),
		"EDGEPURGE_CONFIG="+path,
		"EDGEPURGE_LISTEN="+addr,
		"EDGEPURGE_ADMIN_LISTEN="+admin,
		"CLOUDFLARE_API_TOKEN="+proc.CFToken,
		"CLOUDFLARE_ZONE_ID="+proc.Zone,
		"CLOUDFLARE_BASE_URL="+cfBase,
		"EDGEPURGE_HOSTS={page_id}.status.example.com",
		"EDGEPURGE_KEYS="+prefix+"statuspage:{page_id}:summary",
		"EDGEPURGE_API_TOKEN="+proc.APIToken,
		"EDGEPURGE_STATUSPAGE_TOKEN="+statuspageToken,
		"EDGEPURGE_WEBHOOK_SECRETS="+webhookSecret,
		"REDIS_URL=redis://"+redistest.SharedAddr+"/0",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+w.recv.srv.URL,
		"OTEL_TRACES_SAMPLER=parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_SERVICE_NAME=",
	)
	w.logs = &syncbuf.Buffer{}
	p := &proc.Proc{Cmd: cmd, Base: w.base, Logs: w.logs, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = w.logs, w.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.Done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.Done
		if t.Failed() {
			t.Logf("logs of edgepurge:\n%s", w.logs.String())
		}
	})
	p.WaitReady(t)
	return w
}

// statuspageEvent is the Statuspage fixture for another page and
// incident, so that each event is its own (no duplicate) with its own URLs.
func statuspageEvent(t *testing.T, page, incident string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(proc.Root(t), "examples", "statuspage-incident.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("p7xk3m9q2w1z"), []byte(page))
	return bytes.ReplaceAll(b, []byte("i8d3f0g5h2j4"), []byte(incident))
}

// send posts a Statuspage event (with headers, e.g. traceparent) and
// returns the answer's status.
func (w *world) send(body []byte, header map[string]string) int {
	req, err := http.NewRequest(http.MethodPost, w.base+"/v1/hooks/statuspage/"+statuspageToken, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Errorf("send: %v", err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventRoot is the request span of the event of page, found by the page
// attribute.
func eventRoot(spans []*span, page string) *span {
	for _, s := range spans {
		if s.Name == "POST /v1/hooks/statuspage/{token}" && s.attr("edgepurge.page") == page {
			return s
		}
	}
	return nil
}

// TestTraceOfAStatuspageStorm sends five Statuspage events at once, one of
// them carrying the core app's traceparent, while the Cloudflare stand-in
// answers slowly and one call is in flight at a time: the first event's
// URLs go out alone, the others wait in the queue and share the next call.
func TestTraceOfAStatuspageStorm(t *testing.T) {
	w := start(t)
	w.stub.SetLatency(400 * time.Millisecond)

	const incomingTrace, incomingSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	pages := []string{"pg0first", "pg1", "pg2", "pg3", "pg4traced"}
	var wg sync.WaitGroup
	status := make([]int, len(pages))
	// The first event goes alone, so that the others arrive while its
	// call is in flight.
	status[0] = -1
	wg.Go(func() { status[0] = w.send(statuspageEvent(t, pages[0], "inc0"), nil) })
	w.waitStubCalls(1)
	for i := 1; i < len(pages); i++ {
		h := map[string]string(nil)
		if pages[i] == "pg4traced" {
			h = map[string]string{"traceparent": "00-" + incomingTrace + "-" + incomingSpan + "-01", "tracestate": "core=app"}
		}
		wg.Go(func() { status[i] = w.send(statuspageEvent(t, pages[i], fmt.Sprintf("inc%d", i)), h) })
	}
	wg.Wait()
	for i, s := range status {
		if s != http.StatusOK {
			t.Fatalf("event of %s answered %d, want 200", pages[i], s)
		}
	}

	spans := w.recv.waitFor(t, "the five events' traces, settled", func(spans []*span) bool {
		n := 0
		for _, p := range pages {
			if r := eventRoot(spans, p); r != nil && len(named(inTrace(spans, r.traceID()), "settle")) == 1 {
				n++
			}
		}
		return n == len(pages)
	})

	// The tree of one event.
	first := eventRoot(spans, pages[0])
	tree := inTrace(spans, first.traceID())
	t.Logf("trace of the first event (%s):\n%s", pages[0], render(tree))
	wantChildren(t, tree, first, "authenticate", "parse", "duplicate check", "plan", "purge", "settle")
	purgeSpan := only(t, tree, "purge")
	wantChildren(t, tree, purgeSpan, "purge redis", "purge cloudflare")
	cfStep := only(t, tree, "purge cloudflare")
	wantChildren(t, tree, cfStep, "cloudflare queue wait", "cloudflare call")
	if got := first.attr("http.response.status_code"); got != "200" {
		t.Errorf("the request span's status code: %q, want 200", got)
	}
	if got := first.attr("http.route"); got != "/v1/hooks/statuspage/{token}" {
		t.Errorf("http.route %q", got)
	}

	// The queue wait of a batched event is a span of its own, ending when
	// its items were handed to the call, before the call's answer.
	batched := eventRoot(spans, pages[2])
	bt := inTrace(spans, batched.traceID())
	wait := only(t, bt, "cloudflare queue wait")
	if wait.parentID() != only(t, bt, "purge cloudflare").spanID() {
		t.Errorf("the queue wait is not a child of the event's cloudflare step:\n%s", names(bt))
	}
	if wait.duration() <= 0 || wait.attr("edgepurge.items") == "" || wait.attr("edgepurge.kind") != "urls" {
		t.Errorf("queue wait span: %v, attributes %v", wait.duration(), wait.Attributes)
	}

	// Every event is linked from the call that carried its URLs (its
	// cloudflare step is the link's span), and the events that waited
	// together share a call, which links to each of them.
	calls := named(spans, "cloudflare call")
	linkedBy := map[string][]*span{} // span id of a linked span -> the calls
	shared := 0
	for _, c := range calls {
		for _, l := range c.Links {
			id := fmt.Sprintf("%x", l.SpanId)
			linkedBy[id] = append(linkedBy[id], c)
		}
		if got := c.attr("edgepurge.events"); got != fmt.Sprint(len(c.Links)) {
			t.Errorf("a call's edgepurge.events %q, but %d links", got, len(c.Links))
		}
		if len(c.Links) > 1 {
			shared++
		}
	}
	for _, p := range pages {
		r := eventRoot(spans, p)
		step := only(t, inTrace(spans, r.traceID()), "purge cloudflare")
		if len(linkedBy[step.spanID()]) == 0 {
			t.Errorf("no cloudflare call links to the event of %s (its step %s)", p, step.spanID())
		}
	}
	if shared == 0 {
		t.Errorf("no cloudflare call carried several events (the events that waited during the first call); calls:\n%s", names(calls))
	}
	for _, c := range calls {
		if len(c.Links) > 1 {
			t.Logf("trace holding a call shared by %d events:\n%s", len(c.Links), render(inTrace(spans, c.traceID())))
			break
		}
	}
	t.Logf("trace of a batched event (%s):\n%s", pages[2], render(bt))

	// The core app's trace continues: same trace id, its span the parent.
	traced := eventRoot(spans, "pg4traced")
	if traced.traceID() != incomingTrace || traced.parentID() != incomingSpan {
		t.Errorf("incoming traceparent not continued: trace %s parent %s, want %s and %s", traced.traceID(), traced.parentID(), incomingTrace, incomingSpan)
	}
	if !strings.Contains(traced.TraceState, "core=app") {
		t.Errorf("tracestate %q not carried on", traced.TraceState)
	}

	if got := w.recv.resource("service.name"); got != "edgepurge" {
		t.Errorf("service.name %q", got)
	}
	if got := w.recv.resource("service.instance.id"); got != "otlp-test" {
		t.Errorf("service.instance.id %q", got)
	}
	if w.recv.resource("service.version") == "" {
		t.Error("no service.version")
	}

	w.checkExemplars()
	w.checkNoSecret()
}

// TestRedriveLinksToTheEventsTrace fails the CDN until the event is
// journaled (202), then lets it through: the re-drive is a trace of its
// own, linked to the event's.
func TestRedriveLinksToTheEventsTrace(t *testing.T) {
	w := start(t)
	w.stub.SetFailure(cfstub.Failure{Status: http.StatusInternalServerError})
	if got := w.send(statuspageEvent(t, "pgredrive", "incr"), nil); got != http.StatusAccepted {
		t.Fatalf("answered %d with the CDN failing, want 202 (journaled)", got)
	}
	w.stub.ClearFailure()
	spans := w.recv.waitFor(t, "a re-drive that purged", func(spans []*span) bool {
		for _, s := range named(spans, "redrive") {
			if s.attr("edgepurge.status") == "purged" {
				return true
			}
		}
		return false
	})
	event := eventRoot(spans, "pgredrive")
	if event == nil {
		t.Fatalf("no trace of the event:\n%s", names(spans))
	}
	if got := event.attr("edgepurge.status"); got != "journaled" {
		t.Errorf("the event's status attribute %q, want journaled", got)
	}
	var redrive *span
	for _, s := range named(spans, "redrive") {
		if s.attr("edgepurge.status") == "purged" {
			redrive = s
		}
	}
	if redrive.traceID() == event.traceID() {
		t.Error("the re-drive is in the event's trace; want a trace of its own, linked")
	}
	found := false
	for _, l := range redrive.Links {
		if fmt.Sprintf("%x", l.TraceId) == event.traceID() {
			found = true
		}
	}
	if !found {
		t.Errorf("the re-drive does not link to the event's trace %s: %d links", event.traceID(), len(redrive.Links))
	}
	rt := inTrace(spans, redrive.traceID())
	wantChildren(t, rt, redrive, "purge")
	t.Logf("trace of the event:\n%s\ntrace of its re-drive:\n%s", render(inTrace(spans, event.traceID())), render(rt))
	w.checkNoSecret()
}

// TestProfilingOnTheAdminListenerOnly: /debug/pprof/ answers on the admin
// listener and 404 on the public one.
func TestProfilingOnTheAdminListenerOnly(t *testing.T) {
	w := start(t)
	if code, body := get(t, w.admin+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("admin /debug/pprof/: %d %.200s", code, body)
	}
	if code, _ := get(t, w.admin+"/debug/pprof/heap?debug=1"); code != http.StatusOK {
		t.Errorf("admin heap profile: %d", code)
	}
	if code, _ := get(t, w.base+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("public /debug/pprof/: %d, want 404", code)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitStubCalls waits until the stand-in has received n purge calls.
func (w *world) waitStubCalls(n int) {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(w.stub.PurgeCalls()) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("the stand-in never received %d purge calls", n)
		}
	}
}

// checkExemplars scrapes /metrics as Prometheus does when it asks for
// OpenMetrics: the backend duration and freshness lag buckets carry a
// sampled event's trace id.
func (w *world) checkExemplars() {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.base+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		w.t.Errorf("/metrics answered %q to a scraper asking for OpenMetrics", ct)
	}
	for _, metric := range []string{"edgepurge_backend_purge_duration_seconds_bucket", "edgepurge_freshness_lag_seconds_bucket"} {
		ok := false
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, metric) && strings.Contains(line, `# {trace_id="`) {
				ok = true
			}
		}
		if !ok {
			w.t.Errorf("no exemplar with a trace_id on %s", metric)
		}
	}
}

// checkNoSecret looks for every secret of the process in every string of
// every span received and in the resource.
func (w *world) checkNoSecret() {
	w.t.Helper()
	secrets := []string{statuspageToken, webhookSecret, proc.CFToken, proc.APIToken}
	for _, s := range w.recv.all() {
		for _, v := range s.strings() {
			for _, secret := range secrets {
				if strings.Contains(v, secret) {
					w.t.Errorf("span %s carries a secret in %q", s.Name, v)
				}
			}
		}
	}
	w.recv.mu.Lock()
	defer w.recv.mu.Unlock()
	for _, kv := range w.recv.resources {
		for _, secret := range secrets {
			if strings.Contains(anyString(kv.Value), secret) {
				w.t.Errorf("resource attribute %s carries a secret", kv.Key)
			}
		}
	}
	if len(w.recv.bad) > 0 {
		w.t.Errorf("the exporter broke the protocol: %v", w.recv.bad)
	}
}

// only is the one span of the trace named name.
func only(t *testing.T, spans []*span, name string) *span {
	t.Helper()
	got := named(spans, name)
	if len(got) != 1 {
		t.Fatalf("%d spans named %q in the trace, want 1:\n%s", len(got), name, names(spans))
	}
	return got[0]
}

// wantChildren checks that parent has a child of each name.
func wantChildren(t *testing.T, spans []*span, parent *span, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, s := range spans {
		if s.parentID() == parent.spanID() {
			have[s.Name] = true
		}
	}
	for _, n := range want {
		if !have[n] {
			t.Errorf("%s has no child %q; the trace:\n%s", parent.Name, n, render(spans))
		}
	}
}

// TestTraceparentContinuesOnTheHookAndManualPurge: the core app's signed
// event and a person's manual purge continue the caller's trace too, and
// neither the signature nor the bearer token is in a span.
func TestTraceparentContinuesOnTheHookAndManualPurge(t *testing.T) {
	w := start(t)
	const hookTrace, hookSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	const manualTrace, manualSpan = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
	body := `{"type":"incident.updated","page_id":"pghook","incident_id":"inc-hook","occurred_at":"` + time.Now().UTC().Format(time.RFC3339) + `"}`
	h := harness.SignedHeaders(t, webhookSecret, "msg_otlp_hook", 0, body)
	signature := h["webhook-signature"]
	h["traceparent"] = "00-" + hookTrace + "-" + hookSpan + "-01"
	if got := w.post("/v1/hooks/events", body, h); got != http.StatusOK {
		t.Fatalf("hook answered %d", got)
	}
	manual := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + proc.APIToken,
		"traceparent": "00-" + manualTrace + "-" + manualSpan + "-01"}
	if got := w.post("/v1/purge", `{"page_id":"pgmanual"}`, manual); got != http.StatusOK {
		t.Fatalf("manual purge answered %d", got)
	}
	spans := w.recv.waitFor(t, "both requests' spans", func(spans []*span) bool {
		return len(named(inTrace(spans, hookTrace), "settle")) == 1 && len(named(inTrace(spans, manualTrace), "settle")) == 1
	})
	for _, c := range []struct{ route, trace, parent string }{
		{"POST /v1/hooks/events", hookTrace, hookSpan},
		{"POST /v1/purge", manualTrace, manualSpan},
	} {
		tr := inTrace(spans, c.trace)
		root := only(t, tr, c.route)
		if root.parentID() != c.parent {
			t.Errorf("%s: parent %s, want the caller's %s", c.route, root.parentID(), c.parent)
		}
		wantChildren(t, tr, root, "authenticate", "parse", "plan", "purge", "settle")
	}
	for _, s := range spans {
		for _, v := range s.strings() {
			if strings.Contains(v, signature) || strings.Contains(v, "Bearer") {
				t.Errorf("span %s carries the signature or the bearer token: %q", s.Name, v)
			}
		}
	}
	w.checkNoSecret()
}

// post sends body to path with headers and returns the answer's status.
func (w *world) post(path, body string, header map[string]string) int {
	req, err := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("POST %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Logf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode
}
