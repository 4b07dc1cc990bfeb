package fastlystub

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestMissingOrUnknownKeyIs401OnEveryEndpoint(t *testing.T) {
	endpoints := []struct{ method, path string }{
		{http.MethodPost, "/purge/" + testHost + "/a"},
		{http.MethodPost, "/service/" + testService + "/purge"},
		{http.MethodPost, "/service/" + testService + "/purge/k"},
		{http.MethodPost, "/service/" + testService + "/purge_all"},
		{http.MethodGet, "/tokens/self"},
		{http.MethodGet, "/service/" + testService},
	}
	for _, key := range []string{"", "unknown-token"} {
		for _, e := range endpoints {
			t.Run(key+" "+e.method+" "+e.path, func(t *testing.T) {
				s, base := start(t, Options{Tokens: []string{testToken}, Domains: map[string]string{testHost: testService}})

				r, err := send(context.Background(), e.method, base+e.path, key, `{"surrogate_keys":["k"]}`, nil)
				if err != nil {
					t.Fatal(err)
				}

				want := `{"msg":"Provided credentials are missing or invalid"}`
				if r.status != http.StatusUnauthorized || r.raw != want {
					t.Errorf("status %d body %s, want 401 %s", r.status, r.raw, want)
				}
				if len(s.Purged(testService)) != 0 {
					t.Error("refused call purged")
				}
				if c := s.Calls()[0]; c.Status != 401 {
					t.Errorf("call = %+v", c)
				}
			})
		}
	}
}

func TestScopes(t *testing.T) {
	const (
		selectToken = "select-token"
		allToken    = "all-token"
		readToken   = "read-token"
		bothToken   = "select-and-read-token"
	)
	_, base := start(t, Options{
		Tokens: []string{selectToken, allToken, readToken, bothToken, testToken},
		Scopes: map[string][]string{
			selectToken: {ScopePurgeSelect},
			allToken:    {ScopePurgeAll},
			readToken:   {ScopeGlobalRead},
			bothToken:   {ScopePurgeSelect, ScopeGlobalRead},
		},
	})
	urlPurge := "POST /purge/" + testHost + "/a"
	keyPurge := "POST /service/" + testService + "/purge"
	onePurge := "POST /service/" + testService + "/purge/k"
	allPurge := "POST /service/" + testService + "/purge_all"
	read := "GET /service/" + testService
	self := "GET /tokens/self"
	// Fastly: purge_select purges by URL and surrogate key but not all,
	// purge_all purges all only, global:read reads only, global does
	// everything (https://docs.fastly.com/ja/guides/using-api-tokens,
	// https://docs.fastly.com/documentation/reference/api/auth-tokens/user).
	want := map[string]map[string]int{
		selectToken: {urlPurge: 200, keyPurge: 200, onePurge: 200, allPurge: 403, read: 403, self: 200},
		allToken:    {urlPurge: 403, keyPurge: 403, onePurge: 403, allPurge: 200, read: 403, self: 200},
		readToken:   {urlPurge: 403, keyPurge: 403, onePurge: 403, allPurge: 403, read: 200, self: 200},
		bothToken:   {urlPurge: 200, keyPurge: 200, onePurge: 200, allPurge: 403, read: 200, self: 200},
		testToken:   {urlPurge: 200, keyPurge: 200, onePurge: 200, allPurge: 200, read: 200, self: 200},
	}
	for token, byCall := range want {
		for callName, status := range byCall {
			method, path, _ := strings.Cut(callName, " ")
			r, err := send(context.Background(), method, base+path, token, `{"surrogate_keys":["k"]}`, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != status {
				t.Errorf("%s: %s answered %d, want %d", token, callName, r.status, status)
			}
			if status == 403 && r.raw != `{"msg":"`+MsgForbidden+`"}` {
				t.Errorf("%s: %s body %s", token, callName, r.raw)
			}
		}
	}
}

func TestTokenSelfReportsScopes(t *testing.T) {
	_, base := start(t, Options{
		Tokens: []string{"select-token", testToken},
		Scopes: map[string][]string{"select-token": {ScopePurgeSelect, ScopeGlobalRead}},
	})
	for token, want := range map[string]string{"select-token": "purge_select global:read", testToken: "global"} {
		r, err := send(context.Background(), http.MethodGet, base+"/tokens/self", token, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var self struct {
			Scope string `json:"scope"`
		}
		r.json(t, &self)
		if r.status != 200 || self.Scope != want || strings.Contains(r.raw, token) {
			t.Errorf("%s: status %d body %s, want scope %q and no token", token, r.status, r.raw, want)
		}
	}
}

func TestTokenNeverInAnswers(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})
	s.SetFailure(Failure{Status: 500, Count: 1})

	var all strings.Builder
	for _, path := range []string{"/tokens/self", "/tokens/self", "/service/" + testService, "/nope"} {
		r := do(t, http.MethodGet, base+path, "", nil)
		all.WriteString(r.raw)
		for _, vs := range r.header {
			all.WriteString(strings.Join(vs, " "))
		}
	}
	if strings.Contains(all.String(), testToken) {
		t.Errorf("answers carry the token: %s", all.String())
	}
}
