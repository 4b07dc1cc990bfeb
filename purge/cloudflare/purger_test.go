package cloudflare

import (
	"context"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestNameAndConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a token: no error")
	}
	p, err := New(Config{APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "cloudflare" || p.maxURLs != 100 || p.maxItems != 100 {
		t.Errorf("name %q maxURLs %d maxItems %d", p.Name(), p.maxURLs, p.maxItems)
	}
}

func TestRequestWithoutZoneIsRefused(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})

	_, err := p.Purge(context.Background(), purge.Request{Tags: []string{"a"}})

	pe := purgeError(t, err)
	if pe.Retryable || pe.Error() != "purge cloudflare: request has no zone" {
		t.Errorf("err = %q retryable %v", pe.Error(), pe.Retryable)
	}
	if len(stub.Calls()) != 0 {
		t.Error("a call was made")
	}
}
