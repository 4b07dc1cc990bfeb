package cfstub

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

const (
	testAccount  = "01a7362d577a6c3019a474fd6f485823"
	otherAccount = "9a7806061c88ada191ed06f989cc3dac"
	otherZone    = "8b8c0f0d3e6b4a9c9f1d2e3a4b5c6d7e"
	purgeOnly    = "purge_only-token"
	readOnly     = "read_only-token"
	accountToken = "account_owned-token"
	zoneScoped   = "zone_scoped-token"
)

// scopedOptions declares a user token with every permission (testToken), a
// user token with only Cache Purge, one with only Zone Read, an
// account-owned token with Cache Purge, and a token with both permissions
// on testZone only.
func scopedOptions() Options {
	return Options{
		Tokens: []string{testToken},
		ScopedTokens: []Token{
			{Value: purgeOnly, Permissions: []string{PermCachePurge}},
			{Value: readOnly, Permissions: []string{PermZoneRead}},
			{Value: accountToken, Account: testAccount, Permissions: []string{PermCachePurge}},
			{Value: zoneScoped, Permissions: AllPermissions(), Zones: []string{testZone}},
		},
	}
}

// get sends one GET with token as bearer.
func get(t *testing.T, url, token string) reply {
	t.Helper()
	r, err := call(t, context.Background(), http.MethodGet, url, "Bearer "+token, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// purgeWith posts a tag purge of zone with token.
func purgeWith(t *testing.T, base, zone, token string) reply {
	t.Helper()
	r, err := call(t, context.Background(), http.MethodPost, base+"zones/"+zone+"/purge_cache", "Bearer "+token, `{"tags":["t"]}`)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const activeBody = `{"success":true,"errors":[],"messages":[{"code":10000,"message":"This API Token is valid and active"}],"result":{"id":"ed17574386854bf78a67040be0a770b0","status":"active"}}`

func TestUserEndpointVerifiesUserTokensOnly(t *testing.T) {
	_, base := start(t, scopedOptions())
	for _, tok := range []string{testToken, purgeOnly, readOnly, zoneScoped} {
		if r := get(t, base+"user/tokens/verify", tok); r.status != 200 || r.raw != activeBody {
			t.Errorf("user token %s: status %d body %s", tok, r.status, r.raw)
		}
	}

	r := get(t, base+"user/tokens/verify", accountToken)

	want := `{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}`
	if r.status != http.StatusUnauthorized || r.raw != want {
		t.Errorf("account-owned token at the user endpoint: status %d body %s, want 401 %s", r.status, r.raw, want)
	}
}

func TestAccountEndpointVerifiesItsAccountsTokens(t *testing.T) {
	s, base := start(t, scopedOptions())

	r := get(t, base+"accounts/"+testAccount+"/tokens/verify", accountToken)

	if r.status != 200 || r.raw != activeBody {
		t.Errorf("account-owned token at its account: status %d body %s, want 200 %s", r.status, r.raw, activeBody)
	}
	tests := []struct {
		name, account, token string
	}{
		{"other account", otherAccount, accountToken},
		{"user token", testAccount, testToken},
		{"unknown token", testAccount, "unknown_token"},
	}
	for _, tt := range tests {
		r := get(t, base+"accounts/"+tt.account+"/tokens/verify", tt.token)
		if r.status != http.StatusUnauthorized || !slices.Equal(r.codes(), []int{CodeInvalidAPIToken}) {
			t.Errorf("%s: status %d codes %v, want 401 [1000]", tt.name, r.status, r.codes())
		}
	}
	if r, err := call(t, context.Background(), http.MethodGet, base+"accounts/"+testAccount+"/tokens/verify", "", ""); err != nil ||
		r.status != http.StatusBadRequest || !slices.Equal(r.codes(), []int{CodeMissingAuthHeader}) {
		t.Errorf("no header: status %d codes %v err %v, want 400 [1001]", r.status, r.codes(), err)
	}
	if c := s.Calls()[0]; c.Account != testAccount || c.Path != "/client/v4/accounts/"+testAccount+"/tokens/verify" || c.Status != 200 {
		t.Errorf("call = %+v", c)
	}
}

func TestZoneReadNeedsZoneRead(t *testing.T) {
	_, base := start(t, scopedOptions())
	for _, tok := range []string{testToken, readOnly, zoneScoped} {
		if r := get(t, base+"zones/"+testZone, tok); r.status != 200 {
			t.Errorf("%s: status %d body %s, want 200", tok, r.status, r.raw)
		}
	}

	tests := []struct{ name, zone, token string }{
		{"cache purge only", testZone, purgeOnly},
		{"account-owned, cache purge only", testZone, accountToken},
		{"zone read on another zone", otherZone, zoneScoped},
	}
	for _, tt := range tests {
		r := get(t, base+"zones/"+tt.zone, tt.token)
		want := `{"success":false,"errors":[{"code":9109,"message":"Unauthorized to access requested resource"}],"messages":[],"result":null}`
		if r.status != http.StatusForbidden || r.raw != want {
			t.Errorf("%s: status %d body %s, want 403 %s", tt.name, r.status, r.raw, want)
		}
	}
	// An unknown token keeps its own message, so that it can be told apart.
	if r := get(t, base+"zones/"+testZone, "unknown_token"); r.status != 403 || r.env.Errors[0].Message != "Invalid access token" {
		t.Errorf("unknown token: status %d body %s", r.status, r.raw)
	}
}

func TestPurgeNeedsCachePurgeOnTheZone(t *testing.T) {
	s, base := start(t, scopedOptions())
	for _, tok := range []string{testToken, purgeOnly, accountToken, zoneScoped} {
		if r := purgeWith(t, base, testZone, tok); r.status != 200 {
			t.Errorf("%s: status %d body %s, want 200", tok, r.status, r.raw)
		}
	}

	tests := []struct{ name, zone, token string }{
		{"zone read only", testZone, readOnly},
		{"cache purge on another zone", otherZone, zoneScoped},
	}
	for _, tt := range tests {
		r := purgeWith(t, base, tt.zone, tt.token)
		want := `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`
		if r.status != http.StatusForbidden || r.raw != want {
			t.Errorf("%s: status %d body %s, want 403 %s", tt.name, r.status, r.raw, want)
		}
	}
	if got := len(s.Purged(otherZone, KindTags)); got != 0 {
		t.Errorf("refused purge purged %d tags", got)
	}
	calls := s.PurgeCalls()
	if last := calls[len(calls)-1]; last.Status != 403 || !slices.Equal(last.Codes, []int{CodeAuthError}) || last.Zone != otherZone {
		t.Errorf("last call = %+v", last)
	}
}

func TestPurgeDeniedCodeCanBe9109(t *testing.T) {
	opts := scopedOptions()
	opts.PurgeDeniedCode = CodeUnauthorized
	_, base := start(t, opts)

	r := purgeWith(t, base, testZone, readOnly)

	want := `{"success":false,"errors":[{"code":9109,"message":"Unauthorized to access requested resource"}],"messages":[],"result":null}`
	if r.status != http.StatusForbidden || r.raw != want {
		t.Errorf("status %d body %s, want 403 %s", r.status, r.raw, want)
	}
}

func TestScopedTokenOverridesTokensEntry(t *testing.T) {
	_, base := start(t, Options{
		Tokens:       []string{testToken},
		ScopedTokens: []Token{{Value: testToken, Permissions: []string{PermCachePurge}}},
	})

	if r := get(t, base+"zones/"+testZone, testToken); r.status != http.StatusForbidden {
		t.Errorf("zone read: status %d, want 403 (the scoped declaration wins)", r.status)
	}
	if r := purgeWith(t, base, testZone, testToken); r.status != 200 {
		t.Errorf("purge: status %d, want 200", r.status)
	}
}

func TestTokenWithoutPermissionsStillVerifies(t *testing.T) {
	_, base := start(t, Options{ScopedTokens: []Token{{Value: "bare-token"}, {Value: "bare-account-token", Account: testAccount}}})

	if r := get(t, base+"user/tokens/verify", "bare-token"); r.status != 200 {
		t.Errorf("user token: status %d", r.status)
	}
	if r := get(t, base+"accounts/"+testAccount+"/tokens/verify", "bare-account-token"); r.status != 200 {
		t.Errorf("account token: status %d", r.status)
	}
	if r := purgeWith(t, base, testZone, "bare-token"); r.status != 403 {
		t.Errorf("purge: status %d, want 403", r.status)
	}
}
