package cloudflare

import (
	"context"
	"slices"
	"testing"

	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestCheckTokenAcceptsActiveToken(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})

	if err := p.CheckToken(context.Background()); err != nil {
		t.Fatalf("verify: %v", err)
	}
	calls := stub.Calls()
	if len(calls) != 1 || calls[0].Path != "/client/v4/user/tokens/verify" || calls[0].Status != 200 {
		t.Errorf("stub saw %+v", calls)
	}
}

func TestCheckTokenRejectsUnknownToken(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{APIToken: "wrong_token-secret"})

	err := p.CheckToken(context.Background())

	pe := purgeError(t, err)
	if pe.Error() != "verify cloudflare token: HTTP 401: code 1000: Invalid API Token" {
		t.Errorf("err = %q", pe.Error())
	}
	if pe.Retryable || !slices.Equal(pe.Codes, []int{cfstub.CodeInvalidAPIToken}) {
		t.Errorf("err = %+v, want permanent [1000]", pe)
	}
	assertNoSecret(t, err.Error())
}

func TestCheckTokenOutageIsRetryable(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	stub.SetFailure(cfstub.Failure{Status: 503, Codes: []int{10000}})

	pe := purgeError(t, p.CheckToken(context.Background()))

	if !pe.Retryable || pe.StatusCode != 503 {
		t.Errorf("err = %+v, want retryable 503", pe)
	}
}
