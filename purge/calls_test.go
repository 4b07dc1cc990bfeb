package purge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

func opName(i int) string { return fmt.Sprintf("call %d", i) }

// No failure is nil; a lone failure is the call's own error, as it is.
func TestCombineNoneAndLone(t *testing.T) {
	if pe := Combine("purge zone z", []*Error{nil, nil}, opName); pe != nil {
		t.Errorf("no failure: %v, want nil", pe)
	}
	lone := &Error{Op: "purge 1 urls in zone z", StatusCode: 400, Message: "bad"}
	if pe := Combine("purge zone z", []*Error{nil, lone, nil}, opName); pe != lone {
		t.Errorf("lone failure: %+v, want the call's own error", pe)
	}
}

// Several failures: the first's status and message, up to three more in
// full and a count of the rest, every code once, the longest RetryAfter,
// the first Permission; Retryable and Unsent only if every failure is.
func TestCombineSeveral(t *testing.T) {
	errs := []*Error{
		{Op: "a", StatusCode: 429, Codes: []int{971}, Message: "slow down", Retryable: true, RetryAfter: time.Second},
		nil,
		{Op: "b", StatusCode: 403, Codes: []int{10000, 971}, Message: "forbidden", Permission: "Zone → Cache Purge → Purge"},
		{Op: "c", Message: "not sent", Retryable: true, Unsent: true, RetryAfter: 3 * time.Second},
		{Op: "d", Message: "reset", Retryable: true},
		{Op: "e", Message: "reset", Retryable: true},
		{Op: "f", Message: "reset", Retryable: true},
	}
	pe := Combine("purge zone z", errs, opName)
	if want := "purge zone z: 6 of 7 calls failed, first call 0"; pe.Op != want {
		t.Errorf("op %q, want %q", pe.Op, want)
	}
	want := "slow down; then call 2: HTTP 403: code 10000, 971: forbidden (missing permission: Zone → Cache Purge → Purge); " +
		"then call 3: not sent; then call 4: reset; and 2 more failures"
	if pe.Message != want {
		t.Errorf("message\n%q, want\n%q", pe.Message, want)
	}
	if pe.StatusCode != 429 || !slices.Equal(pe.Codes, []int{971, 10000}) || pe.RetryAfter != 3*time.Second ||
		pe.Permission != "Zone → Cache Purge → Purge" || pe.Retryable || pe.Unsent {
		t.Errorf("combined %+v", pe)
	}

	unsent := []*Error{NotSent(canceled(), "x"), NotSent(canceled(), "y")}
	if pe := Combine("w", unsent, opName); !pe.Unsent || !pe.Retryable {
		t.Errorf("every failure unsent: %+v, want Unsent and Retryable", pe)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(fmt.Errorf("node down"))
	return ctx
}

// RunCalls makes every call, in order and at most limit at once, counts
// what was made and accepted, and sends nothing once the context ended.
func TestRunCalls(t *testing.T) {
	var inFlight, peak atomic.Int32
	res, errs := RunCalls(context.Background(), 10, 3, opName, func(_ context.Context, i int) (int, *Error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		if i%4 == 0 {
			return 1, &Error{Op: opName(i), Message: "partly"}
		}
		return 2, nil
	})
	if res != (Result{Calls: 10, Items: 17}) || peak.Load() > 3 || peak.Load() < 2 {
		t.Errorf("result %+v, peak %d in flight; want 10 calls, 17 items, at most 3 at once", res, peak.Load())
	}
	for i, e := range errs {
		if (e != nil) != (i%4 == 0) {
			t.Errorf("errs[%d] = %v", i, e)
		}
	}

	res, errs = RunCalls(canceled(), 2, 4, opName, func(context.Context, int) (int, *Error) {
		t.Error("a call was sent after the context ended")
		return 0, nil
	})
	if res != (Result{}) || !errs[0].Unsent || !errs[1].Retryable || !strings.Contains(errs[0].Error(), "call 0: not sent: node down") {
		t.Errorf("ended context: %+v, %v", res, errs)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 2 ", 2 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{"Mon, 02 Jan 2006 15:04:05 GMT", 0}, // a date in the past
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, time.Now()); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A call without an answer is retryable, names the cause rather than the
// URL, and carries none of the secrets; the caller's deadline wins.
func TestUnanswered(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://api.example/purge?token=s3cret", Err: errors.New("dial tcp: s3cret refused")}
	pe := Unanswered(context.Background(), "purge 3 urls", err, "s3cret", "")
	if !pe.Retryable || pe.Op != "purge 3 urls" || pe.Message != "dial tcp: [token] refused" {
		t.Errorf("got %+v; want a retryable error with the cause, redacted", pe)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if pe := Unanswered(ctx, "op", err); pe.Message != context.Canceled.Error() {
		t.Errorf("with the context ended: %q; want %q", pe.Message, context.Canceled)
	}
}

// Clip keeps a message within MaxMessage bytes without splitting a rune.
func TestClip(t *testing.T) {
	if s := Clip("short"); s != "short" {
		t.Errorf("Clip(short) = %q", s)
	}
	long := strings.Repeat("a", MaxMessage-1) + "é" + "tail"
	got := Clip(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > MaxMessage+len("…") {
		t.Errorf("Clip of %d bytes = %d bytes, valid %t: %q", len(long), len(got), utf8.ValidString(got), got[len(got)-8:])
	}
}
