package cloudflare

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

const (
	testAccount  = "01a7362d577a6c3019a474fd6f485823"
	accountToken = "account_owned-token-7c41"
	purgeOnly    = "purge_only-token-3b9e"
)

// scoped declares an account-owned token of testAccount and a user token,
// both holding only Cache Purge.
var scoped = []cfstub.Token{
	{Value: accountToken, Account: testAccount, Permissions: []string{cfstub.PermCachePurge}},
	{Value: purgeOnly, Permissions: []string{cfstub.PermCachePurge}},
}

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

// Verifying needs no permission: a Cache-Purge-only user token verifies.
func TestCheckTokenAcceptsLeastPrivilegeUserToken(t *testing.T) {
	_, base := startStub(t, cfstub.Options{ScopedTokens: scoped})

	if err := newPurger(t, base, Config{APIToken: purgeOnly}).CheckToken(context.Background()); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestCheckTokenRejectsUnknownToken(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{APIToken: "wrong_token-secret"})

	err := p.CheckToken(context.Background())

	pe := purgeError(t, err)
	if !strings.HasPrefix(pe.Error(), "verify cloudflare token: HTTP 401: code 1000: Invalid API Token; the token is invalid") {
		t.Errorf("err = %q", pe.Error())
	}
	if pe.Retryable || !slices.Equal(pe.Codes, []int{cfstub.CodeInvalidAPIToken}) || pe.Permission != "" {
		t.Errorf("err = %+v, want permanent [1000] naming no permission", pe)
	}
	assertNoSecret(t, err.Error())
}

// An account-owned token at the user endpoint is refused like an unknown
// one; the error says what to set.
func TestCheckTokenAccountOwnedWithoutAccountIDSaysWhatToSet(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{ScopedTokens: scoped})
	p := newPurger(t, base, Config{APIToken: accountToken})

	err := p.CheckToken(context.Background())

	pe := purgeError(t, err)
	for _, want := range []string{"HTTP 401: code 1000: Invalid API Token", "looks like an account-owned token", "cloudflare.account_id", "CLOUDFLARE_ACCOUNT_ID"} {
		if !strings.Contains(pe.Error(), want) {
			t.Errorf("err = %q, want it to say %q", pe.Error(), want)
		}
	}
	if pe.Retryable || pe.Permission != "" {
		t.Errorf("err = %+v, want permanent, naming no permission", pe)
	}
	if c := stub.Calls(); len(c) != 1 || c[0].Path != "/client/v4/user/tokens/verify" {
		t.Errorf("stub saw %+v", c)
	}
	assertNoSecret(t, err.Error())
}

func TestCheckTokenAccountOwnedVerifiesAtItsAccount(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{ScopedTokens: scoped})
	p := newPurger(t, base, Config{APIToken: accountToken, AccountID: testAccount})

	if err := p.CheckToken(context.Background()); err != nil {
		t.Fatalf("verify: %v", err)
	}
	calls := stub.Calls()
	if len(calls) != 1 || calls[0].Path != "/client/v4/accounts/"+testAccount+"/tokens/verify" || calls[0].Account != testAccount || calls[0].Status != 200 {
		t.Errorf("stub saw %+v", calls)
	}
}

func TestCheckTokenAtAccountRejectsOthers(t *testing.T) {
	_, base := startStub(t, cfstub.Options{ScopedTokens: scoped})
	tests := []struct{ name, token, account string }{
		{"unknown token", "wrong_token-secret", testAccount},
		{"another account", accountToken, "9a7806061c88ada191ed06f989cc3dac"},
		{"user token", purgeOnly, testAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newPurger(t, base, Config{APIToken: purge.Secret(tt.token), AccountID: tt.account}).CheckToken(context.Background())

			pe := purgeError(t, err)
			want := "verify cloudflare account token (account " + tt.account + "): HTTP 401: code 1000: Invalid API Token; the token is invalid, or not owned by account " + tt.account
			if !strings.HasPrefix(pe.Error(), want) || pe.Retryable || pe.Permission != "" {
				t.Errorf("err = %q (%+v)\nwant prefix %q, permanent, no permission", pe.Error(), pe, want)
			}
			assertNoSecret(t, err.Error())
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("%q leaks the token", err.Error())
			}
		})
	}
}

func TestCheckTokenOutageIsRetryable(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{ScopedTokens: scoped})
	stub.SetFailure(cfstub.Failure{Status: 503, Codes: []int{10000}})

	for _, cfg := range []Config{{}, {APIToken: accountToken, AccountID: testAccount}} {
		pe := purgeError(t, newPurger(t, base, cfg).CheckToken(context.Background()))

		if !pe.Retryable || pe.StatusCode != 503 || strings.Contains(pe.Message, "account-owned") {
			t.Errorf("account %q: err = %+v, want retryable 503 without advice", cfg.AccountID, pe)
		}
	}
}
