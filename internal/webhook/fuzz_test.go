package webhook

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks the verifier's invariants on arbitrary headers and
// bodies: it never panics; it accepts a delivery only if the header carries
// the exact signature of one of its secrets; adding the right signature to
// any header makes an in-tolerance delivery pass; changing the body then
// fails it; and no error ever contains a secret.
func FuzzVerify(f *testing.F) {
	const raw = "a-raw-secret-of-the-old-sender"
	secrets := []string{specSecret, raw}
	v, err := NewVerifier(secrets, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(specID, int64(0), specSignature, []byte(specBody))
	f.Add(specID, int64(-301), "v1a,"+strings.Repeat("A", 88)+" "+specSignature, []byte(specBody))
	f.Add("msg_2", int64(299), "v1,AAAA v2,x v1,", []byte(`{"type":"incident.updated","page_id":"p0"}`))
	f.Add("msg 3", int64(1<<41), "  v1,,  ", []byte{})
	f.Add("", int64(0), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte("\x00"))
	now := specTime
	f.Fuzz(func(t *testing.T, id string, skew int64, header string, body []byte) {
		ts := strconv.FormatInt(now.Unix()+skew, 10)
		err := v.Verify(id, ts, header, body, now)
		if err == nil && !carriesSignatureOf(t, secrets, id, now.Add(time.Duration(skew)*time.Second), body, header) {
			t.Fatalf("accepted a header without a correct signature: id %q ts %s header %q", id, ts, header)
		}
		if err != nil {
			for _, s := range append(secrets, strings.TrimPrefix(specSecret, SecretPrefix)) {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error reveals a secret: %v", err)
				}
			}
		}
		if id == "" || skew > 300 || skew < -300 {
			return
		}
		for _, secret := range secrets {
			at := now.Add(time.Duration(skew) * time.Second)
			sig, err := Sign(secret, id, at, body)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := v.Verify(id, ts, header+" "+sig, body, now); err != nil {
				t.Fatalf("rejected a header with a correct signature added: %v", err)
			}
			if err := v.Verify(id, ts, sig, append(body[:len(body):len(body)], 'x'), now); err == nil {
				t.Fatal("accepted a signature over another body")
			}
		}
	})
}

// carriesSignatureOf reports whether header has a v1 entry that is the
// signature of (id, at, body) under one of secrets.
func carriesSignatureOf(t *testing.T, secrets []string, id string, at time.Time, body []byte, header string) bool {
	t.Helper()
	for _, secret := range secrets {
		sig, err := Sign(secret, id, at, body)
		if err != nil {
			return false
		}
		want, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
		for _, entry := range strings.Split(header, " ") {
			got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(entry, "v1,"))
			if strings.HasPrefix(entry, "v1,") && err == nil && string(got) == string(want) {
				return true
			}
		}
	}
	return false
}
