package cfstub

import (
	"net/http"
	"slices"
)

// Permissions a declared Token may hold, named as Cloudflare's list of API
// token permissions names them (the dashboard shows them as "Zone → Cache
// Purge → Purge" and "Zone → Zone → Read"):
// https://developers.cloudflare.com/fundamentals/api/reference/permissions/
const (
	// PermCachePurge allows POST /zones/{zone_id}/purge_cache. Cloudflare's
	// API reference lists "#cache_purge:edit" as the purge endpoint's token
	// permission, and purging needs nothing else.
	PermCachePurge = "Cache Purge"
	// PermZoneRead allows GET /zones/{zone_id}; purging does not need it.
	PermZoneRead = "Zone Read"
)

// AllPermissions returns every permission the stand-in models; each token
// of Options.Tokens holds them all, on every zone.
func AllPermissions() []string { return []string{PermCachePurge, PermZoneRead} }

// Token declares an API token with what Cloudflare knows about it: who
// owns it, what it may do and on which zones. Tokens verify without any
// permission: Cloudflare's verify endpoints test the token itself.
type Token struct {
	// Value is the secret, sent as "Authorization: Bearer <Value>".
	Value string
	// Account, when set, makes the token account-owned by that account id
	// (created under Manage Account → Account API Tokens). Such a token
	// verifies only at GET /accounts/{Account}/tokens/verify; the user
	// endpoint, GET /user/tokens/verify, refuses it as it refuses an
	// unknown token (401, code 1000). Empty: a user token, which verifies
	// at the user endpoint only.
	Account string
	// Permissions are what the token may do on its zones (Perm*
	// constants); none when empty. A token lacking PermZoneRead on a zone
	// gets 403 code 9109 from GET /zones/{id}; one lacking PermCachePurge
	// gets 403 (Options.PurgeDeniedCode) from the zone's purge_cache.
	Permissions []string
	// Zones limits the permissions to these zone ids ("Zone resources:
	// Specific zone"); empty means every zone ("All zones"). On another
	// zone the token is answered as if it lacked the permission.
	Zones []string
}

// may reports whether the token holds perm on zone.
func (t Token) may(perm, zone string) bool {
	if !slices.Contains(t.Permissions, perm) {
		return false
	}
	return len(t.Zones) == 0 || slices.Contains(t.Zones, zone)
}

// Messages of the refusals of a token that lacks a permission.
const (
	// MsgAuthError is code 10000's message, "Authentication error", seen
	// from purge_cache when the token does not allow the purge
	// (https://community.cloudflare.com/t/purge-cache-with-api-token-unsupported/192771).
	MsgAuthError = "Authentication error"
	// MsgUnauthorized is code 9109's message for a valid token without the
	// permission the endpoint needs, seen from Cloudflare's API in public
	// reports (https://github.com/ChrispyBacon-dev/DockFlare/issues/177).
	MsgUnauthorized = "Unauthorized to access requested resource"
)

// tokenTable builds the accepted tokens: each of opts.Tokens a user token
// with every permission on every zone, then opts.ScopedTokens (a value in
// both is the scoped declaration).
func tokenTable(opts Options) map[string]Token {
	table := make(map[string]Token, len(opts.Tokens)+len(opts.ScopedTokens))
	for _, v := range opts.Tokens {
		table[v] = Token{Value: v, Permissions: AllPermissions()}
	}
	for _, t := range opts.ScopedTokens {
		table[t.Value] = t
	}
	return table
}

// purgeDenied is the answer to a purge by a token without Cache Purge on
// the zone. Which code Cloudflare sends is not settled by its documentation:
// 10000 "Authentication error" is what public reports show for purge_cache,
// 9109 what other endpoints answer a token lacking a permission; a test
// picks either with Options.PurgeDeniedCode.
func (s *Server) purgeDenied() answer {
	if s.opts.PurgeDeniedCode == CodeUnauthorized {
		return fail(http.StatusForbidden, apiError{Code: CodeUnauthorized, Message: MsgUnauthorized})
	}
	return fail(http.StatusForbidden, apiError{Code: CodeAuthError, Message: MsgAuthError})
}

// zoneReadDenied is the answer to GET /zones/{id} by a token without Zone
// Read on the zone: 403 with code 9109, what issue 23 reports for a token
// holding only Cache Purge. Cloudflare's documentation lists neither the
// code nor the status for this case (unconfirmed).
func zoneReadDenied() answer {
	return fail(http.StatusForbidden, apiError{Code: CodeUnauthorized, Message: MsgUnauthorized})
}
