package cloudflare

import (
	"net/http"
	"slices"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// Permissions named in purge.Error.Permission, as the dashboard's token
// editor shows them (scope → permission group → access).
const (
	// PermissionCachePurge is what purge_cache needs, and all purging needs.
	PermissionCachePurge = "Zone → Cache Purge → Purge"
	// PermissionZoneRead is what GET /zones/{id} (CheckZone) needs.
	PermissionZoneRead = "Zone → Zone → Read"
)

// Cloudflare's codes of a 403 for a token that lacks a permission. Which one
// purge_cache sends is not settled by Cloudflare's documentation: public
// reports show 10000 "Authentication error" from purge_cache and 9109
// "Unauthorized to access requested resource" from other endpoints, so
// either is taken to mean a missing permission.
const (
	codeAuthError    = 10000
	codeUnauthorized = 9109
)

// refused explains a 403 for want of perm on zone: it names the permission
// in pe.Permission and what to grant in the message. A 403 whose message
// says the token itself is invalid (Cloudflare's "Invalid access token",
// also code 9109) is a bad token, not a missing grant: Permission stays
// empty and the message says so. Other errors pass unchanged. note, when
// set, is added after the fix.
func refused(pe *purge.Error, perm, zone, note string) *purge.Error {
	if pe == nil || pe.StatusCode != http.StatusForbidden {
		return pe
	}
	if invalidToken(pe.Message) {
		pe.Message += "; the token is invalid (unknown, expired or revoked): check cloudflare.api_token"
		return pe
	}
	if !slices.Contains(pe.Codes, codeAuthError) && !slices.Contains(pe.Codes, codeUnauthorized) {
		return pe
	}
	pe.Permission = perm
	pe.Message += "; give the token " + perm + " on zone " + zone
	if note != "" {
		pe.Message += " (" + note + ")"
	}
	return pe
}

// invalidToken reports whether Cloudflare's message says the token is not
// valid at all.
func invalidToken(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "invalid access token") || strings.Contains(m, "invalid api token")
}
