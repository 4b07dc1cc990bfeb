package fastlystub

import (
	"net/http"
	"slices"
)

// authenticate checks the Fastly-Key header: a missing or unknown token is
// refused with 401, as Fastly does. It returns the token when accepted.
func (s *Server) authenticate(r *http.Request) (token string, refusal answer, refused bool) {
	token = r.Header.Get("Fastly-Key")
	if token == "" || !s.tokens[token] {
		return "", fail(http.StatusUnauthorized, MsgBadCredentials, ""), true
	}
	return token, answer{}, false
}

// scopes returns the token's scopes; ScopeGlobal unless Options.Scopes
// says otherwise.
func (s *Server) scopes(token string) []string {
	if sc, ok := s.opts.Scopes[token]; ok {
		return sc
	}
	return []string{ScopeGlobal}
}

// allowed reports whether the token has ScopeGlobal or one of want. The
// scopes allow what Fastly documents: global everything, purge_select
// purges by URL and surrogate key (not purge_all), purge_all only
// purge_all, global:read reads only
// (https://docs.fastly.com/documentation/reference/api/auth-tokens/user,
// https://docs.fastly.com/ja/guides/using-api-tokens). That a call outside
// the token's scope is answered 403 is not documented; third-party
// documentation reports 403 for purge_all with a purge_select token
// (https://kestra.io/plugins/io.kestra.plugin.fastly.purge.All).
func (s *Server) allowed(token string, want ...string) bool {
	for _, sc := range s.scopes(token) {
		if sc == ScopeGlobal || slices.Contains(want, sc) {
			return true
		}
	}
	return false
}

// forbidden is the answer for a token whose scope does not allow a call.
func forbidden() answer { return fail(http.StatusForbidden, MsgForbidden, "") }
