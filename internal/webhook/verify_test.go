package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks specification.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = "1614265330"
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var specTime = time.Unix(1614265330, 0)

func newVerifier(t *testing.T, secrets ...string) *Verifier {
	t.Helper()
	v, err := NewVerifier(secrets, 0)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestSignSpecVector(t *testing.T) {
	got, err := Sign(specSecret, specID, specTime, []byte(specBody))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got != specSignature {
		t.Fatalf("Sign = %q, want %q", got, specSignature)
	}
}

func TestVerifySpecVector(t *testing.T) {
	v := newVerifier(t, specSecret)
	if err := v.Verify(specID, specTimestamp, specSignature, []byte(specBody), specTime); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	other := "whsec_" + "c2VjcmV0LW9mLXNvbWVvbmUtZWxzZQ==" // "secret-of-someone-else"
	tests := []struct {
		name                string
		secret              string
		id, timestamp, sig  string
		body                string
		now                 time.Time
		want                error
		wantMessageContains string
	}{
		{name: "tampered body", secret: specSecret, id: specID, timestamp: specTimestamp, sig: specSignature,
			body: `{"test": 2432232315}`, now: specTime, want: ErrNoMatchingSignature},
		{name: "tampered id", secret: specSecret, id: specID + "x", timestamp: specTimestamp, sig: specSignature,
			body: specBody, now: specTime, want: ErrNoMatchingSignature},
		{name: "wrong secret", secret: other, id: specID, timestamp: specTimestamp, sig: specSignature,
			body: specBody, now: specTime, want: ErrNoMatchingSignature},
		{name: "stale timestamp", secret: specSecret, id: specID, timestamp: specTimestamp, sig: specSignature,
			body: specBody, now: specTime.Add(5*time.Minute + time.Second), want: ErrTimestampOutOfTolerance,
			wantMessageContains: "5m1s old"},
		{name: "future timestamp", secret: specSecret, id: specID, timestamp: specTimestamp, sig: specSignature,
			body: specBody, now: specTime.Add(-5*time.Minute - time.Second), want: ErrTimestampOutOfTolerance,
			wantMessageContains: "5m1s in the future"},
		{name: "absurd timestamp", secret: specSecret, id: specID, timestamp: "9223372036854775807", sig: specSignature,
			body: specBody, now: specTime, want: ErrTimestampOutOfTolerance},
		{name: "timestamp not an integer", secret: specSecret, id: specID, timestamp: "1614265330.5", sig: specSignature,
			body: specBody, now: specTime, want: ErrInvalidTimestamp},
		{name: "timestamp as a date", secret: specSecret, id: specID, timestamp: "2021-02-25T15:02:10Z", sig: specSignature,
			body: specBody, now: specTime, want: ErrInvalidTimestamp},
		{name: "missing id", secret: specSecret, id: "", timestamp: specTimestamp, sig: specSignature,
			body: specBody, now: specTime, want: ErrMissingHeaders, wantMessageContains: "webhook-id"},
		{name: "missing timestamp", secret: specSecret, id: specID, timestamp: "", sig: specSignature,
			body: specBody, now: specTime, want: ErrMissingHeaders, wantMessageContains: "webhook-timestamp"},
		{name: "missing signature", secret: specSecret, id: specID, timestamp: specTimestamp, sig: "",
			body: specBody, now: specTime, want: ErrMissingHeaders, wantMessageContains: "webhook-signature"},
		{name: "only a v1a signature", secret: specSecret, id: specID, timestamp: specTimestamp,
			sig: "v1a," + strings.TrimPrefix(specSignature, "v1,"), body: specBody, now: specTime, want: ErrNoMatchingSignature},
		{name: "signature without version", secret: specSecret, id: specID, timestamp: specTimestamp,
			sig: strings.TrimPrefix(specSignature, "v1,"), body: specBody, now: specTime, want: ErrNoMatchingSignature},
		{name: "signature not base64", secret: specSecret, id: specID, timestamp: specTimestamp,
			sig: "v1,********************************************", body: specBody, now: specTime, want: ErrNoMatchingSignature},
		{name: "truncated signature", secret: specSecret, id: specID, timestamp: specTimestamp,
			sig: specSignature[:len(specSignature)-4], body: specBody, now: specTime, want: ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.secret)
			err := v.Verify(tt.id, tt.timestamp, tt.sig, []byte(tt.body), tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMessageContains) {
				t.Fatalf("Verify error %q does not contain %q", err, tt.wantMessageContains)
			}
		})
	}
}

func TestVerifyAcceptsAtToleranceEdges(t *testing.T) {
	v := newVerifier(t, specSecret)
	for _, now := range []time.Time{specTime.Add(5 * time.Minute), specTime.Add(-5 * time.Minute)} {
		if err := v.Verify(specID, specTimestamp, specSignature, []byte(specBody), now); err != nil {
			t.Errorf("Verify at now=%s: %v", now.Sub(specTime), err)
		}
	}
}

func TestVerifyCustomTolerance(t *testing.T) {
	v, err := NewVerifier([]string{specSecret}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v.Tolerance() != 30*time.Second {
		t.Fatalf("Tolerance = %s, want 30s", v.Tolerance())
	}
	err = v.Verify(specID, specTimestamp, specSignature, []byte(specBody), specTime.Add(31*time.Second))
	if !errors.Is(err, ErrTimestampOutOfTolerance) {
		t.Fatalf("Verify 31s late = %v, want ErrTimestampOutOfTolerance", err)
	}
}

func TestVerifyRotation(t *testing.T) {
	const oldSecret = "whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZA==" // "old-secret-old-secret-old"
	const newSecret = "a raw secret without the prefix"
	v := newVerifier(t, oldSecret, newSecret)
	body := []byte(`{"type":"incident.updated","page_id":"p0"}`)
	now := time.Unix(1_790_000_000, 0)
	for _, secret := range []string{oldSecret, newSecret} {
		sig, err := Sign(secret, "msg_1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify("msg_1", "1790000000", sig, body, now); err != nil {
			t.Errorf("signed with secret %q: Verify = %v", secret, err)
		}
	}
}

func TestVerifySeveralSignaturesOneMatches(t *testing.T) {
	v := newVerifier(t, specSecret)
	header := "v1,Ceq3CaWmkyf4kxUw9CW01iwbsqAf6VT0UMVqlWUhUpY= " + // someone else's
		"v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " +
		"  " + specSignature + " v2,garbage"
	if err := v.Verify(specID, specTimestamp, header, []byte(specBody), specTime); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	const badBase64 = "whsec_not*base64!secret"
	tests := []struct {
		name    string
		secrets []string
		want    string
	}{
		{name: "no secrets", secrets: nil, want: "webhook verifier: no secrets configured"},
		{name: "bad base64", secrets: []string{specSecret, badBase64},
			want: "webhook verifier: secret 1: the part after whsec_ is not valid base64"},
		{name: "empty whsec", secrets: []string{"whsec_"}, want: "webhook verifier: secret 0: the part after whsec_ is empty"},
		{name: "empty secret", secrets: []string{specSecret, specSecret, ""}, want: "webhook verifier: secret 2: empty"},
		{name: "whitespace", secrets: []string{" " + specSecret}, want: "webhook verifier: secret 0: has leading or trailing whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.secrets, 0)
			if err == nil {
				t.Fatalf("NewVerifier = %v, want error", v)
			}
			if err.Error() != tt.want {
				t.Fatalf("error = %q, want %q", err, tt.want)
			}
			for _, s := range tt.secrets {
				if len(s) > len(SecretPrefix) && strings.Contains(err.Error(), strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix)) {
					t.Fatalf("error %q reveals a secret", err)
				}
			}
		})
	}
	if _, err := NewVerifier([]string{specSecret}, -time.Second); err == nil {
		t.Fatal("NewVerifier with negative tolerance: want error")
	}
}

func TestSignErrorDoesNotRevealSecret(t *testing.T) {
	const bad = "whsec_%%%not-base64%%%"
	_, err := Sign(bad, "msg_1", specTime, nil)
	if err == nil {
		t.Fatal("Sign with bad secret: want error")
	}
	if strings.Contains(err.Error(), "not-base64") {
		t.Fatalf("error %q reveals the secret", err)
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	v := newVerifier(t, specSecret)
	body := []byte(specBody)
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Verify(specID, specTimestamp, specSignature, body, specTime); err != nil {
			t.Fatal(err)
		}
	})
	// hmac.New allocates its hash states; everything else stays on the stack.
	if allocs > 8 {
		t.Fatalf("Verify allocates %.0f times per call, want at most 8", allocs)
	}
}

func BenchmarkVerify(b *testing.B) {
	v, err := NewVerifier([]string{specSecret}, 0)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(specBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(specID, specTimestamp, specSignature, body, specTime); err != nil {
			b.Fatal(err)
		}
	}
}
