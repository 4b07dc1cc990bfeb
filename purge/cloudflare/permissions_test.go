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
	readOnly   = "read_only-token-51aa"
	zoneScoped = "zone_scoped-token-0d2f"
	otherZone  = "8b8c0f0d3e6b4a9c9f1d2e3a4b5c6d7e"
)

// leastPrivilege adds to the stand-in a read-only token and one with both
// permissions on testZone only.
func leastPrivilege(code int) cfstub.Options {
	return cfstub.Options{
		ScopedTokens: append(slices.Clone(scoped),
			cfstub.Token{Value: readOnly, Permissions: []string{cfstub.PermZoneRead}},
			cfstub.Token{Value: zoneScoped, Permissions: cfstub.AllPermissions(), Zones: []string{testZone}},
		),
		PurgeDeniedCode: code,
	}
}

// A Cache-Purge-only token purges, user-owned or account-owned.
func TestLeastPrivilegeTokensPurge(t *testing.T) {
	stub, base := startStub(t, leastPrivilege(0))
	for _, cfg := range []Config{{APIToken: purgeOnly}, {APIToken: accountToken, AccountID: testAccount}, {APIToken: zoneScoped}} {
		res, err := newPurger(t, base, cfg).Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(2), Tags: []string{"page:1"}})
		if err != nil || res != (purge.Result{Items: 3, Calls: 2}) {
			t.Errorf("token %s: result %+v err %v", cfg.APIToken, res, err)
		}
	}
	if n := len(stub.URLsPurged(testZone)); n != 2 {
		t.Errorf("purged %d urls, want 2", n)
	}
}

// Cloudflare's code for a purge refused for want of Cache Purge is 10000
// in public reports and may be 9109: both name the permission.
func TestPurgeWithoutCachePurgeNamesThePermission(t *testing.T) {
	tests := []struct {
		name  string
		code  int
		token string
		zone  string
		want  string
	}{
		{"read-only token, 10000", cfstub.CodeAuthError, readOnly, testZone, "code 10000: Authentication error"},
		{"read-only token, 9109", cfstub.CodeUnauthorized, readOnly, testZone, "code 9109: Unauthorized to access requested resource"},
		{"token for another zone", 0, zoneScoped, otherZone, "code 10000: Authentication error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := leastPrivilege(tt.code)
			opts.Zones = []string{testZone, otherZone}
			stub := cfstub.New(opts)
			base, err := stub.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stub.Close)

			_, err = newPurger(t, base, Config{APIToken: purge.Secret(tt.token)}).Purge(context.Background(), purge.Request{Zone: tt.zone, Tags: []string{"page:1"}})

			pe := purgeError(t, err)
			want := "purge 1 tags in zone " + tt.zone + ": HTTP 403: " + tt.want + "; give the token Zone → Cache Purge → Purge on zone " + tt.zone
			if pe.Error() != want {
				t.Errorf("err = %q\nwant  %q", pe.Error(), want)
			}
			if pe.Permission != PermissionCachePurge || pe.Retryable {
				t.Errorf("err = %+v, want permanent, Permission %q", pe, PermissionCachePurge)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// Several refused calls of one request name the permission once.
func TestCombinedRefusalsNameThePermission(t *testing.T) {
	_, base := startStub(t, leastPrivilege(0))

	_, err := newPurger(t, base, Config{APIToken: readOnly}).Purge(context.Background(), purge.Request{Zone: testZone, URLs: urls(1), Tags: []string{"a"}})

	pe := purgeError(t, err)
	if pe.Permission != PermissionCachePurge || !strings.Contains(pe.Error(), "give the token Zone → Cache Purge → Purge on zone "+testZone) {
		t.Errorf("err = %q (%+v)", pe.Error(), pe)
	}
}

func TestCheckZoneWithoutZoneReadNamesThePermission(t *testing.T) {
	_, base := startStub(t, leastPrivilege(0))
	for _, cfg := range []Config{{APIToken: purgeOnly}, {APIToken: accountToken, AccountID: testAccount}} {
		err := newPurger(t, base, cfg).CheckZone(context.Background(), testZone)

		pe := purgeError(t, err)
		want := "read cloudflare zone " + testZone + ": HTTP 403: code 9109: Unauthorized to access requested resource; " +
			"give the token Zone → Zone → Read on zone " + testZone + " (only this read needs it; purging needs Zone → Cache Purge → Purge)"
		if pe.Error() != want {
			t.Errorf("token %s: err = %q\nwant  %q", cfg.APIToken, pe.Error(), want)
		}
		if pe.Permission != PermissionZoneRead || pe.Retryable {
			t.Errorf("token %s: err = %+v, want permanent, Permission %q", cfg.APIToken, pe, PermissionZoneRead)
		}
		assertNoSecret(t, err.Error())
	}
	if err := newPurger(t, base, Config{APIToken: readOnly}).CheckZone(context.Background(), testZone); err != nil {
		t.Errorf("read-only token: %v", err)
	}
}

// An unknown token answers 403 code 9109 too, but "Invalid access token":
// it is told apart from a missing permission.
func TestInvalidTokenNamesNoPermission(t *testing.T) {
	_, base := startStub(t, leastPrivilege(0))
	p := newPurger(t, base, Config{APIToken: "wrong_token-secret"})

	zerr := p.CheckZone(context.Background(), testZone)
	_, perr := p.Purge(context.Background(), purge.Request{Zone: testZone, Everything: true})

	for _, err := range []error{zerr, perr} {
		pe := purgeError(t, err)
		if pe.Permission != "" || !strings.Contains(pe.Error(), "Invalid access token; the token is invalid") || strings.Contains(pe.Error(), "give the token") {
			t.Errorf("err = %q (%+v), want an invalid token naming no permission", pe.Error(), pe)
		}
		assertNoSecret(t, err.Error())
	}
}

// Other 403s (an injected outage page, say) and other statuses are not
// taken for a missing permission.
func TestOtherRefusalsNameNoPermission(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	p := newPurger(t, base, Config{})
	for _, f := range []cfstub.Failure{
		{Status: 403, Codes: []int{1020}, Message: "Access denied"},
		{Status: 400, Codes: []int{10000}, Message: "Bad request"},
		{Status: 500, Codes: []int{10000}, Message: "Internal error"},
	} {
		stub.SetFailure(f)
		_, err := p.Purge(context.Background(), purge.Request{Zone: testZone, Tags: []string{"a"}})
		if pe := purgeError(t, err); pe.Permission != "" || strings.Contains(pe.Message, "give the token") {
			t.Errorf("%d %v: err = %+v, want no permission", f.Status, f.Codes, pe)
		}
	}
}

func TestErrorMentionsPermissionTheMessageLacks(t *testing.T) {
	pe := &purge.Error{Op: "purge 1 tags", StatusCode: 403, Codes: []int{10000}, Message: "Authentication error", Permission: PermissionCachePurge}
	if got, want := pe.Error(), "purge 1 tags: HTTP 403: code 10000: Authentication error (missing permission: Zone → Cache Purge → Purge)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
