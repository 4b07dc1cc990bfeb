package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

// The naive handler purges each event it accepts with one call of the
// URLs of a hot event's plan (22: 11 paths on 2 hosts), answers 200 when
// Cloudflare accepted it and 503 when it did not, and purges nothing for
// a request whose signature is wrong.
func TestNaivePurgesEachEventWithOneCall(t *testing.T) {
	stub := cfstub.New(StubSpec{URLRate: 30, URLBurst: 30}.options("cf-token"))
	defer stub.Close()
	base, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	bare, err := NewBare([]string{testSecret}, "sp-token")
	if err != nil {
		t.Fatal(err)
	}
	n := NewNaive(bare, base, "cf-token", benchZone)
	g := newGenerator(Workload{Pages: 1, IncidentsPerPage: 1, StatuspageShare: 0.5}, "run1", 0, testSecret, "sp-token")
	post := func(tamper bool) *fasthttp.RequestCtx {
		t.Helper()
		req, err := g.next(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.SetRequestURI(req.path)
		ctx.Request.Header.Set("webhook-id", req.id)
		ctx.Request.Header.Set("webhook-timestamp", req.timestamp)
		ctx.Request.Header.Set("webhook-signature", req.signature)
		if tamper {
			ctx.Request.SetRequestURI(hookPath)
			ctx.Request.Header.Set("webhook-signature", "v1,AAAA")
		}
		ctx.Request.SetBody(req.body)
		n.Handle(&ctx)
		return &ctx
	}
	// The bucket holds 30 URLs: the first event's 22 go out, the next
	// event's do not.
	if ctx := post(false); ctx.Response.StatusCode() != 200 || !strings.Contains(string(ctx.Response.Body()), `"page":"bench-p0"`) {
		t.Fatalf("first event: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if ctx := post(false); ctx.Response.StatusCode() != 503 || !strings.Contains(string(ctx.Response.Body()), "cloudflare answered 429") {
		t.Errorf("second event: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if ctx := post(true); ctx.Response.StatusCode() != 401 {
		t.Errorf("bad signature: %d", ctx.Response.StatusCode())
	}
	calls := stub.PurgeCalls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	urls := calls[0].Items
	if len(urls) != 22 || urls[0] != "https://bench-p0.status.example.com/" || urls[21] != "https://bench-p0.custom.example.com/api/v2/incidents/unresolved.json" {
		t.Errorf("%d URLs: %q", len(urls), urls)
	}
	if !strings.Contains(strings.Join(urls, " "), "https://bench-p0.custom.example.com/incidents/bench-inc0") {
		t.Errorf("no incident URL in %q", urls)
	}
}
