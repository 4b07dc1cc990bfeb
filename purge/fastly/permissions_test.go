package fastly

import (
	"context"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

const (
	selectToken = "select-token-5e1d"
	allToken    = "all-token-7a2c"
	readToken   = "read-token-93bf"
)

// scopedStub serves tokens limited to purge_select, purge_all and
// global:read besides testToken (global).
func scopedStub(t *testing.T) (*fastlystub.Server, string) {
	t.Helper()
	return startStub(t, fastlystub.Options{
		Tokens: []string{selectToken, allToken, readToken},
		Scopes: map[string][]string{
			selectToken: {fastlystub.ScopePurgeSelect},
			allToken:    {fastlystub.ScopePurgeAll},
			readToken:   {fastlystub.ScopeGlobalRead},
		},
	})
}

// A purge_select token purges URLs and surrogate keys and passes the token
// check: least privilege is enough to purge.
func TestPurgeSelectTokenPurges(t *testing.T) {
	stub, base := scopedStub(t)
	p := newPurger(t, base, Config{APIToken: selectToken})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(2), Tags: keys(3)})

	if err != nil || res != (purge.Result{Items: 5, Calls: 3}) {
		t.Errorf("result %+v err %v, want 5 items in 3 calls", res, err)
	}
	if n := len(stub.Purged(testService)); n != 5 {
		t.Errorf("stub purged %d items, want 5", n)
	}
	if err := p.CheckToken(context.Background()); err != nil {
		t.Errorf("check token: %v", err)
	}
}

func TestPurgeWithoutScopeNamesIt(t *testing.T) {
	_, base := scopedStub(t)
	tests := []struct {
		name  string
		token string
		req   purge.Request
		want  string // the error
		scope string
	}{
		{"url with read-only token", readToken, purge.Request{Zone: testService, URLs: urls(1)},
			"purge url " + urls(1)[0] + " in fastly service " + testService + ": HTTP 403: " + fastlystub.MsgForbidden + "; give the token scope purge_select", ScopePurgeSelect},
		{"keys with purge_all token", allToken, purge.Request{Zone: testService, Tags: keys(2)},
			"purge 2 surrogate keys in fastly service " + testService + ": HTTP 403: " + fastlystub.MsgForbidden + "; give the token scope purge_select", ScopePurgeSelect},
		{"everything with purge_select token", selectToken, purge.Request{Zone: testService, Everything: true},
			"purge all in fastly service " + testService + ": HTTP 403: " + fastlystub.MsgForbidden + "; give the token scope purge_all", ScopePurgeAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newPurger(t, base, Config{APIToken: purge.Secret(tt.token)}).Purge(context.Background(), tt.req)

			pe := purgeError(t, err)
			if pe.Error() != tt.want || pe.Permission != tt.scope || pe.Retryable {
				t.Errorf("err = %q (%+v)\nwant  %q, permanent, Permission %q", pe.Error(), pe, tt.want, tt.scope)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("err leaks the token: %q", err)
			}
		})
	}
}

// Several refused calls of one request name the scope once.
func TestCombinedRefusalsNameTheScope(t *testing.T) {
	_, base := scopedStub(t)

	_, err := newPurger(t, base, Config{APIToken: readToken}).Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(2), Tags: keys(1)})

	pe := purgeError(t, err)
	if pe.Permission != ScopePurgeSelect || !strings.Contains(pe.Error(), "give the token scope purge_select") || !strings.HasPrefix(pe.Op, "purge fastly service "+testService+": 3 of 3 calls failed") {
		t.Errorf("err = %q (%+v)", pe.Error(), pe)
	}
}

func TestCheckServiceWithoutGlobalReadNamesIt(t *testing.T) {
	_, base := scopedStub(t)
	for _, token := range []string{selectToken, allToken} {
		err := newPurger(t, base, Config{APIToken: purge.Secret(token)}).CheckService(context.Background(), testService)

		pe := purgeError(t, err)
		want := "read fastly service " + testService + ": HTTP 403: " + fastlystub.MsgForbidden +
			"; give the token scope global:read (only this read needs it; purging needs purge_select)"
		if pe.Error() != want || pe.Permission != ScopeGlobalRead || pe.Retryable {
			t.Errorf("%s: err = %q (%+v)\nwant  %q", token, pe.Error(), pe, want)
		}
	}
	if err := newPurger(t, base, Config{APIToken: readToken}).CheckService(context.Background(), testService); err != nil {
		t.Errorf("global:read token: %v", err)
	}
}

// A wrong token is 401: no scope fixes it, so none is named.
func TestWrongTokenNamesNoScope(t *testing.T) {
	_, base := scopedStub(t)
	p := newPurger(t, base, Config{APIToken: wrongToken})

	_, perr := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: keys(1)})
	serr := p.CheckService(context.Background(), testService)
	terr := p.CheckToken(context.Background())

	for _, err := range []error{perr, serr, terr} {
		pe := purgeError(t, err)
		if pe.StatusCode != 401 || pe.Permission != "" || strings.Contains(pe.Message, "give the token") {
			t.Errorf("err = %q (%+v), want 401 naming no scope", pe.Error(), pe)
		}
		assertNoSecret(t, err.Error())
	}
}

func TestCheckTokenWithoutPurgeScopeNamesIt(t *testing.T) {
	_, base := scopedStub(t)

	err := newPurger(t, base, Config{APIToken: readToken}).CheckToken(context.Background())

	pe := purgeError(t, err)
	if pe.Permission != ScopePurgeSelect || !strings.HasSuffix(pe.Message, "which cannot purge; give the token scope purge_select") || pe.Retryable {
		t.Errorf("err = %q (%+v)", pe.Error(), pe)
	}
}
