package fastly

import (
	"net/http"

	"github.com/edgepurge/edgepurge/purge"
)

// Token scopes named in purge.Error.Permission, as Fastly's token form
// names them (https://docs.fastly.com/documentation/reference/api/auth-tokens/user).
const (
	// ScopePurgeSelect allows purging by URL and surrogate key, not all.
	ScopePurgeSelect = "purge_select"
	// ScopePurgeAll allows purge_all.
	ScopePurgeAll = "purge_all"
	// ScopeGlobalRead allows reads such as GET /service/{id}; purging does
	// not need it.
	ScopeGlobalRead = "global:read"
)

// refused explains a 403, Fastly's answer to a token whose scope does not
// allow the call: it names scope in pe.Permission and what to grant in the
// message. A 401 is a missing or unknown token, which no scope fixes: it
// passes unchanged, as do other errors. note, when set, is added after the
// fix.
func refused(pe *purge.Error, scope, note string) *purge.Error {
	if pe == nil || pe.StatusCode != http.StatusForbidden {
		return pe
	}
	pe.Permission = scope
	pe.Message += "; give the token scope " + scope
	if note != "" {
		pe.Message += " (" + note + ")"
	}
	return pe
}

// scopeOf is the scope a purge call of kind needs.
func scopeOf(kind string) string {
	if kind == kindAll {
		return ScopePurgeAll
	}
	return ScopePurgeSelect
}
