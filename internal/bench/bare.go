package bench

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/statuspage"
	"github.com/edgepurge/edgepurge/internal/webhook"
)

// Bare is the floor the overhead scenario compares edgepurge with: a
// fasthttp server that does only what no implementation can skip, the
// Standard Webhooks signature check and the JSON parse, and answers 200.
type Bare struct {
	verifier *webhook.Verifier
	token    [32]byte
	hasToken bool
}

// NewBare returns the bare handler for the given webhook secrets and
// Statuspage path token (empty: that endpoint answers 401).
func NewBare(secrets []string, statuspageToken string) (*Bare, error) {
	v, err := webhook.NewVerifier(secrets, 0)
	if err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	return &Bare{verifier: v, token: sha256.Sum256([]byte(statuspageToken)), hasToken: statuspageToken != ""}, nil
}

// Handle serves one request: POST /v1/hooks/events and
// /v1/hooks/statuspage/{token}, and GET /readyz.
func (b *Bare) Handle(ctx *fasthttp.RequestCtx) {
	if ev, ok := b.event(ctx); ok {
		answer(ctx, ev)
	}
}

// event serves GET /readyz and the paths it does not know itself, and
// checks and parses the event a hook endpoint was sent. ok says the
// request is an event, parsed; when it is not, event has answered it.
func (b *Bare) event(ctx *fasthttp.RequestCtx) (ev event.Event, ok bool) {
	path := string(ctx.Path())
	var err error
	switch {
	case path == "/readyz":
		ctx.SetStatusCode(fasthttp.StatusOK)
		return ev, false
	case path == hookPath && ctx.IsPost():
		h := &ctx.Request.Header
		id := string(h.Peek("webhook-id"))
		body := ctx.PostBody()
		if err := b.verifier.Verify(id, string(h.Peek("webhook-timestamp")), string(h.Peek("webhook-signature")), body, time.Now()); err != nil {
			ctx.Error(`{"error":"signature invalid"}`, fasthttp.StatusUnauthorized)
			return ev, false
		}
		ev, err = event.ParseHook(id, body)
	case strings.HasPrefix(path, statuspagePath) && ctx.IsPost():
		got := sha256.Sum256([]byte(path[len(statuspagePath):]))
		if !b.hasToken || subtle.ConstantTimeCompare(got[:], b.token[:]) != 1 {
			ctx.Error(`{"error":"token invalid"}`, fasthttp.StatusUnauthorized)
			return ev, false
		}
		ev, err = statuspage.Parse(ctx.PostBody())
	default:
		ctx.Error("not found", fasthttp.StatusNotFound)
		return ev, false
	}
	if err != nil {
		ctx.Error(`{"error":"malformed"}`, fasthttp.StatusBadRequest)
		return ev, false
	}
	return ev, true
}

// answer is a small JSON answer naming the event, so the bare handler
// writes a body as edgepurge does.
func answer(ctx *fasthttp.RequestCtx, ev event.Event) {
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBodyString(`{"id":"` + ev.ID + `","status":"parsed","page":"` + ev.PageID + `"}`)
}

// ServeOwn serves one of the bench's own handlers (Bare.Handle,
// Naive.Handle), named name in errors, on addr (a 127.0.0.1 address) until
// ctx ends.
func ServeOwn(ctx context.Context, name, addr string, handler fasthttp.RequestHandler) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return fmt.Errorf("%s handler: listen address %q: must be 127.0.0.1:PORT", name, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s handler: listen: %w", name, err)
	}
	srv := &fasthttp.Server{
		Handler:      handler,
		Name:         "edgepurge-bench-" + name,
		ReadTimeout:  5 * time.Second,
		WriteTimeout: 15 * time.Second,
		IdleTimeout:  60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("%s handler: serve: %w", name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.ShutdownWithContext(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s handler: shutdown: %w", name, err)
	}
	return nil
}
