package app

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// A collector that is down makes the SDK report every failed export: one
// line, then silence for 30 s, the rest counted.
func TestOTelErrorsAreRateLimited(t *testing.T) {
	var buf bytes.Buffer
	h := NewOTelErrorHandler(slog.New(slog.NewJSONHandler(&buf, nil)))
	for range 5 {
		h.Handle(errors.New("failed to send to http://collector:4318/v1/traces: connection refused"))
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for 5 failed exports within 30 s, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), `"msg":"tracing: spans not exported"`) {
		t.Errorf("line: %s", buf.String())
	}
	h.next = h.next.Add(-otelLogEvery)
	h.Handle(errors.New("again"))
	if !strings.Contains(buf.String(), `"left_out":4`) {
		t.Errorf("the next line does not count the 4 left out:\n%s", buf.String())
	}
}
