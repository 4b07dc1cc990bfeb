package cfstub

import (
	"net/http"
	"strings"
)

// authenticate checks the bearer token the way Cloudflare does: a missing or
// malformed header is a bad request, an unknown token is refused. verify
// selects the answers of the token-verify endpoints, which differ. It
// returns the accepted token's declaration; what the token may do is the
// endpoint's to check.
func (s *Server) authenticate(r *http.Request, verify bool) (tok Token, refusal answer, refused bool) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if verify {
			return Token{}, fail(http.StatusBadRequest, apiError{Code: CodeMissingAuthHeader, Message: `Missing "Authorization" header`}), true
		}
		return Token{}, fail(http.StatusBadRequest, apiError{Code: CodeMissingAuth, Message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers"}), true
	}
	token, found := strings.CutPrefix(header, "Bearer ")
	if !found || !wellFormedToken(token) {
		return Token{}, fail(http.StatusBadRequest, apiError{
			Code: CodeInvalidHeaders, Message: "Invalid request headers",
			ErrorChain: []apiError{{Code: CodeBadAuthFormat, Message: "Invalid format for Authorization header"}},
		}), true
	}
	tok, known := s.tokens[token]
	if !known {
		if verify {
			return Token{}, invalidAPIToken(), true
		}
		return Token{}, fail(http.StatusForbidden, apiError{Code: CodeInvalidAccessToken, Message: "Invalid access token"}), true
	}
	return tok, answer{}, false
}

// invalidAPIToken is a verify endpoint's answer for a token it does not
// verify: 401 with code 1000.
func invalidAPIToken() answer {
	return fail(http.StatusUnauthorized, apiError{Code: CodeInvalidAPIToken, Message: "Invalid API Token"})
}

// wellFormedToken reports whether token has the characters of a Cloudflare
// API token (real ones are 40 of them; the stand-in accepts any length).
func wellFormedToken(token string) bool {
	if token == "" {
		return false
	}
	for _, c := range token {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
