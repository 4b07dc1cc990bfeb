package webhook

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix marks a secret in the Standard Webhooks form, whose rest is
// the key in standard base64.
const SecretPrefix = "whsec_"

// decodeSecret turns a configured secret into HMAC key bytes. Its errors never
// contain the secret.
func decodeSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	// A stray space from splitting "a, b" would silently become part of the
	// key and reject every delivery; say so instead.
	if strings.TrimSpace(s) != s {
		return nil, errors.New("has leading or trailing whitespace")
	}
	encoded, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return []byte(s), nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// The base64 error quotes an offset only, not the input.
		return nil, errors.New("the part after " + SecretPrefix + " is not valid base64")
	}
	if len(key) == 0 {
		return nil, errors.New("the part after " + SecretPrefix + " is empty")
	}
	return key, nil
}

// Sign returns the webhook-signature header value ("v1,<base64>") for a
// delivery with the given id, timestamp and body, signed with secret (in
// either form NewVerifier accepts). Tests, the CLI and the load generator
// use it to produce requests the service accepts.
func Sign(secret string, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("sign webhook: secret: %w", err)
	}
	if id == "" {
		return "", errors.New("sign webhook: empty id")
	}
	var sum [sha256.Size]byte
	mac := computeMAC(sum[:0], key, signedPrefix(id, strconv.FormatInt(ts.Unix(), 10)), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac), nil
}
