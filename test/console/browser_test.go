// Package console_test drives the on-call console (GET /console) in a real
// headless Chromium, through chromedp, against a real in-process edgepurge
// (test/testkit/harness) on real Redis and the Cloudflare stand-in.
// Screenshots go to test/console/artifacts/ (git-ignored).
package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which scripts/ensure-chromium.sh
// installs; EDGEPURGE_CHROMIUM names another.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("EDGEPURGE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Chromium is missing at %s (%v): install it with scripts/ensure-chromium.sh (make test and .ci/run do)", p, err)
	}
	return p
}

// waitTimeout bounds each wait for the page to show something.
const waitTimeout = 15 * time.Second

// browser is one headless Chromium with one tab, collecting every
// console message, uncaught exception and non-network log error of the
// page as a problem.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// newBrowser starts Chromium with a fresh profile and the flags a closed
// network needs (without them Chromium stalls on its own background
// requests), in a window of width × height.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	// One bound for the whole browser: a stuck step fails the test
	// instead of hanging it.
	tctx, cancelTime := context.WithTimeout(context.Background(), 4*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(tctx, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTime()
		<-done
	})
	// Console starts the browser and subscribes before the first page.
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.note(m)
		}
	}()
	// Runs before the browser is closed (cleanups run last-in first-out).
	t.Cleanup(func() {
		if t.Failed() {
			b.shot("failed-" + strings.ReplaceAll(t.Name(), "/", "-"))
		}
	})
	return b
}

// note keeps a console message as a problem: any call of the console API
// (the console's script makes none), any uncaught exception, and any error
// of the browser log but a failed request's (the 401 of a wrong token, a
// 503 readiness: expected answers).
func (b *browser) note(m chromedp.ConsoleMessage) {
	switch {
	case m.Source == "":
		b.problem("%s (%s:%d)", m, m.URL, m.Line)
	case m.Type == chromedp.ConsoleError && m.Source != "network":
		b.problem("%s [%s] (%s)", m, m.Source, m.URL)
	}
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

// noProblems fails the test with every console message or error seen.
func (b *browser) noProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
}

// run runs actions, failing the test on an error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression into a T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// bool evaluates a JavaScript expression as a boolean.
func (b *browser) bool(expr string) bool {
	b.t.Helper()
	return eval[bool](b, "!!("+expr+")")
}

// text is the textContent of the first element matching sel ("" if none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel))
}

// waitFor polls a JavaScript condition until it holds.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	b.waitWithin(waitTimeout, what, expr)
}

// waitWithin is waitFor with its own bound, for what takes the server
// longer than a page's refresh (a readiness window, a breaker's cooldown).
func (b *browser) waitWithin(bound time.Duration, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if b.bool(expr) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("waited %v for %s (%s)", bound, what, expr)
}

// waitText waits until the element of sel contains want as text.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s to show %q", sel, want),
		fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.includes(%q)`, sel, want))
}

// click clicks the first element of sel (a CSS selector).
func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto replaces the value of an input by typing text (key events, so
// the page's input listeners run).
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	if !eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.value = '';
		e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, sel)) {
		b.t.Fatalf("no %s to type into", sel)
	}
	if text != "" {
		b.run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
}

// choose sets a <select> and fires its change event, as a person's choice does.
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	ok := eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true}));
		return s.value === %q; })()`, sel, value, value))
	if !ok {
		b.t.Fatalf("%s has no option %q", sel, value)
	}
}

// shot saves a full-page screenshot as artifacts/name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll("artifacts", 0o755); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join("artifacts", name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: test/console/%s", p)
}
