package fastly

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

func TestCheckToken(t *testing.T) {
	const (
		selectToken = "select-token-1"
		allToken    = "all-token-2"
		readToken   = "read-token-3"
	)
	stub, base := startStub(t, fastlystub.Options{
		Tokens: []string{selectToken, allToken, readToken},
		Scopes: map[string][]string{
			selectToken: {fastlystub.ScopePurgeSelect},
			allToken:    {fastlystub.ScopePurgeAll},
			readToken:   {fastlystub.ScopeGlobalRead},
		},
	})
	for _, token := range []string{testToken, selectToken, allToken} {
		if err := newPurger(t, base, Config{APIToken: purge.Secret(token)}).CheckToken(context.Background()); err != nil {
			t.Errorf("%s: %v", token, err)
		}
	}

	err := newPurger(t, base, Config{APIToken: readToken}).CheckToken(context.Background())
	if pe := purgeError(t, err); pe.Retryable || !strings.Contains(pe.Message, `scope "global:read", which cannot purge`) || strings.Contains(pe.Error(), readToken) {
		t.Errorf("read-only token: err = %+v", pe)
	}

	err = newPurger(t, base, Config{APIToken: wrongToken}).CheckToken(context.Background())
	pe := purgeError(t, err)
	if pe.Error() != "check fastly token: HTTP 401: Provided credentials are missing or invalid" || pe.Retryable {
		t.Errorf("wrong token: err = %q (retryable %t)", pe.Error(), pe.Retryable)
	}
	assertNoSecret(t, err.Error())

	stub.SetFailure(fastlystub.Failure{Status: 503})
	err = newPurger(t, base, Config{}).CheckToken(context.Background())
	if pe := purgeError(t, err); !pe.Retryable || pe.StatusCode != 503 {
		t.Errorf("outage: err = %+v, want retryable 503", pe)
	}
	if calls := stub.Calls(); calls[0].Path != "/tokens/self" || calls[0].Method != "GET" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestCheckService(t *testing.T) {
	const selectToken = "select-token-1"
	stub, base := startStub(t, fastlystub.Options{Tokens: []string{selectToken}, Scopes: map[string][]string{selectToken: {fastlystub.ScopePurgeSelect}}})
	p := newPurger(t, base, Config{})

	if err := p.CheckService(context.Background(), testService); err != nil {
		t.Errorf("known service: %v", err)
	}

	err := p.CheckService(context.Background(), "nope")
	pe := purgeError(t, err)
	if pe.Error() != "read fastly service nope: HTTP 404: Record not found: Cannot find service 'nope'" || pe.Retryable {
		t.Errorf("unknown service: err = %q (retryable %t)", pe.Error(), pe.Retryable)
	}

	err = newPurger(t, base, Config{APIToken: selectToken}).CheckService(context.Background(), testService)
	if pe := purgeError(t, err); pe.StatusCode != 403 || pe.Retryable {
		t.Errorf("purge-only token: err = %+v, want permanent 403", pe)
	}

	err = newPurger(t, base, Config{APIToken: wrongToken}).CheckService(context.Background(), testService)
	if pe := purgeError(t, err); pe.StatusCode != 401 || pe.Retryable {
		t.Errorf("wrong token: err = %+v, want permanent 401", pe)
	}

	if err := p.CheckService(context.Background(), ""); err == nil {
		t.Error("empty service id accepted")
	}

	stub.Hang(true)
	defer stub.Hang(false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if pe := purgeError(t, p.CheckService(ctx, testService)); !pe.Retryable {
		t.Errorf("hang: err = %+v, want retryable", pe)
	}
}
