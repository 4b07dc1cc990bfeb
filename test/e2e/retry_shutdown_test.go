package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

// SIGTERM while a purge hangs on the CDN, with a shutdown bound shorter
// than the purge deadline: the purge is cut short before the bound, so the
// request is still answered (retryable, non-2xx) instead of cut off, and
// Run returns within the bound.
func TestShutdownCutsAHangingPurgeAndStillAnswers(t *testing.T) {
	const bound = 2 * time.Second
	h := harness.StartURLsOnly(t, 30*time.Second, func(cfg *config.Config) {
		cfg.Server.ShutdownTimeout = bound
		cfg.Server.DrainDelay = time.Millisecond
	})
	h.Stub.Hang(true)
	t.Cleanup(func() { h.Stub.Hang(false) })

	type answer struct {
		code int
		raw  []byte
	}
	answered := make(chan answer, 1)
	go func() {
		code, raw := h.SendEvent(harness.EventID(t, 1), []byte(harness.IncidentEvent))
		answered <- answer{code, raw}
	}()
	for h.Stub.Waiting() == 0 {
		time.Sleep(10 * time.Millisecond)
	}

	start := time.Now()
	h.Stop() // cancels Run's context, as SIGTERM does, and waits for Run
	took := time.Since(start)
	if took > bound+3*time.Second {
		t.Errorf("Run returned %v after SIGTERM; the bound is %v", took, bound)
	}
	select {
	case a := <-answered:
		if a.code != http.StatusBadGateway && a.code != http.StatusServiceUnavailable {
			t.Fatalf("in-flight event answered %d, want a retryable 502/503: %s", a.code, a.raw)
		}
		if r := harness.DecodeAnswer(t, a.raw).Results[0]; r.Status != chain.BackendFailed || !r.Retryable {
			t.Errorf("cloudflare result %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight event was never answered")
	}
}
