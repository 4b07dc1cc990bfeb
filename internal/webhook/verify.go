// Package webhook verifies and produces Standard Webhooks signatures
// (https://www.standardwebhooks.com): HMAC-SHA256 over "{id}.{timestamp}.{body}",
// sent as space-separated "v1,<base64>" entries in the webhook-signature header.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock, in either direction, when NewVerifier is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// The reasons a delivery fails verification. The HTTP layer answers all of
// them with the same 401; they exist for logs, metrics and tests.
var (
	// ErrMissingHeaders is a webhook-id, webhook-timestamp or
	// webhook-signature header that is absent or empty.
	ErrMissingHeaders = errors.New("missing webhook header")
	// ErrInvalidTimestamp is a webhook-timestamp that is not an integer
	// number of seconds since the Unix epoch.
	ErrInvalidTimestamp = errors.New("invalid webhook timestamp")
	// ErrTimestampOutOfTolerance is a webhook-timestamp too far in the past
	// (a replay) or in the future.
	ErrTimestampOutOfTolerance = errors.New("webhook timestamp outside tolerance")
	// ErrNoMatchingSignature is a delivery none of whose v1 signatures was
	// made with any of the configured secrets.
	ErrNoMatchingSignature = errors.New("no matching webhook signature")
)

// Verifier checks Standard Webhooks signatures against one or more secrets.
// It is immutable and safe for concurrent use.
type Verifier struct {
	keys      [][]byte
	macs      []*sync.Pool // of hash.Hash: keys[i]'s HMAC, reset after use
	tolerance time.Duration
}

// NewVerifier returns a Verifier that accepts a signature made with any of
// secrets, so that a secret can be rotated without a window of rejections.
// A secret is either "whsec_<base64>" (the Standard Webhooks form, decoded)
// or any other non-empty string, used as raw key bytes. A tolerance of 0
// means DefaultTolerance. Errors name a bad secret by its index, never by
// its value.
func NewVerifier(secrets []string, tolerance time.Duration) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook verifier: no secrets configured")
	}
	if tolerance < 0 {
		return nil, fmt.Errorf("webhook verifier: negative tolerance %s", tolerance)
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("webhook verifier: secret %d: %w", i, err)
		}
		keys[i] = key
	}
	macs := make([]*sync.Pool, len(keys))
	for i, key := range keys {
		macs[i] = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return &Verifier{keys: keys, macs: macs, tolerance: tolerance}, nil
}

// Tolerance is the accepted distance between a delivery's timestamp and now.
func (v *Verifier) Tolerance() time.Duration { return v.tolerance }

// Verify checks one delivery: the webhook-id, webhook-timestamp and
// webhook-signature header values, the raw body exactly as received, and the
// receiver's current time. It returns nil when some v1 signature matches some
// secret, and otherwise an error wrapping one of the Err* sentinels.
// Signature entries of other versions (e.g. "v1a,...") are ignored.
func (v *Verifier) Verify(id, timestamp, signatures string, body []byte, now time.Time) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: webhook-id", ErrMissingHeaders)
	case timestamp == "":
		return fmt.Errorf("%w: webhook-timestamp", ErrMissingHeaders)
	case signatures == "":
		return fmt.Errorf("%w: webhook-signature", ErrMissingHeaders)
	}
	if err := v.checkTimestamp(timestamp, now); err != nil {
		return err
	}

	var pb [128]byte
	prefix := appendSignedPrefix(pb[:0], id, timestamp)
	var sum [sha256.Size]byte
	for i := range v.keys {
		h := v.macs[i].Get().(hash.Hash)
		h.Write(prefix)
		h.Write(body)
		mac := h.Sum(sum[:0])
		h.Reset()
		v.macs[i].Put(h)
		if matchesAny(signatures, mac) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// maxTimestamp bounds accepted timestamps so that converting them to a
// time.Time cannot overflow; anything near it is out of tolerance anyway.
const maxTimestamp = 1 << 40

func (v *Verifier) checkTimestamp(timestamp string, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: not an integer", ErrInvalidTimestamp)
	}
	if ts > maxTimestamp || ts < -maxTimestamp {
		return fmt.Errorf("%w: %d is not a plausible time", ErrTimestampOutOfTolerance, ts)
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > v.tolerance {
		return fmt.Errorf("%w: %s old", ErrTimestampOutOfTolerance, age.Truncate(time.Second))
	}
	if age < -v.tolerance {
		return fmt.Errorf("%w: %s in the future", ErrTimestampOutOfTolerance, (-age).Truncate(time.Second))
	}
	return nil
}

// matchesAny reports whether one of the space-separated "v1,<base64>"
// entries of header equals mac, comparing in constant time.
func matchesAny(header string, mac []byte) bool {
	// A 32-byte HMAC is 44 base64 characters; DecodedLen(44) is 33.
	var decoded [33]byte
	rest := header
	for rest != "" {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" || len(sig) != base64.StdEncoding.EncodedLen(sha256.Size) {
			continue
		}
		n, err := base64.StdEncoding.Decode(decoded[:], []byte(sig))
		if err != nil {
			continue
		}
		if hmac.Equal(decoded[:n], mac) {
			return true
		}
	}
	return false
}

// signedPrefix is the part of the signed content before the body,
// "{id}.{timestamp}.", built once so that each MAC takes two writes.
func signedPrefix(id, timestamp string) []byte {
	return appendSignedPrefix(make([]byte, 0, len(id)+len(timestamp)+2), id, timestamp)
}

// appendSignedPrefix appends signedPrefix(id, timestamp) to b.
func appendSignedPrefix(b []byte, id, timestamp string) []byte {
	b = append(b, id...)
	b = append(b, '.')
	b = append(b, timestamp...)
	return append(b, '.')
}

// computeMAC appends HMAC-SHA256(key, prefix+body) to dst.
func computeMAC(dst, key, prefix, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(prefix)
	mac.Write(body)
	return mac.Sum(dst)
}
