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
	)
	_, base := start(t, Options{
		Tokens: []string{selectToken, allToken, readToken, testToken},
		Scopes: map[string][]string{
			selectToken: {ScopePurgeSelect},
			allToken:    {ScopePurgeAll},
			readToken:   {ScopeGlobalRead},
		},
	})
	urlPurge := "POST /purge/" + testHost + "/a"
	keyPurge := "POST /service/" + testService + "/purge"
	allPurge := "POST /service/" + testService + "/purge_all"
	read := "GET /service/" + testService
	self := "GET /tokens/self"
	want := map[string]map[string]int{
		selectToken: {urlPurge: 200, keyPurge: 200, allPurge: 403, read: 403, self: 200},
		allToken:    {urlPurge: 403, keyPurge: 403, allPurge: 200, read: 403, self: 200},
		readToken:   {urlPurge: 403, keyPurge: 403, allPurge: 403, read: 200, self: 200},
		testToken:   {urlPurge: 200, keyPurge: 200, allPurge: 200, read: 200, self: 200},
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
