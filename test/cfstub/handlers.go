package cfstub

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// serve runs one API call: it waits out the injected latency or hang, then
// answers with the injected failure, the authentication refusal, or work's
// answer, and records the call.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, call Call, verify bool, work func(tok Token) answer) {
	s.core.Hold(r, call)
	a, failed := s.injected()
	if !failed {
		tok, refusal, refused := s.authenticate(r, verify)
		if a = refusal; !refused {
			a = work(tok)
		}
	}
	a.write(w)
	call.Status, call.Codes = a.status, a.codes()
	s.core.Record(call)
}

// handlePurge serves POST /zones/{zone_id}/purge_cache.
func (s *Server) handlePurge(w http.ResponseWriter, r *http.Request) {
	zone := r.PathValue("zone_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path, Zone: zone}
	data, readErr := io.ReadAll(r.Body)
	body, parseErr := parsePurgeBody(data)
	if readErr == nil && parseErr == nil {
		call.Kind, call.Items = body.kind, body.items
	}
	s.serve(w, r, call, false, func(tok Token) answer {
		if !s.zones.Known(zone) {
			return invalidZone("/zones/" + zone + "/purge_cache")
		}
		if !tok.may(PermCachePurge, zone) {
			return s.purgeDenied()
		}
		if readErr != nil {
			return fail(http.StatusBadRequest, apiError{Code: CodeBadPurgeBody, Message: "Could not read request body"})
		}
		if parseErr != nil {
			return fail(http.StatusBadRequest, apiError{Code: CodeBadPurgeBody, Message: parseErr.Error()})
		}
		if body.kind != KindEverything && len(body.items) > s.maxItems {
			return s.tooManyItems()
		}
		now := time.Now()
		if ok, wait := s.spend(now, zone, body); !ok {
			a := fail(http.StatusTooManyRequests, apiError{Code: CodeRateLimited, Message: "Please wait and consider throttling your request speed"})
			a.retryAfter = wait
			return a
		}
		s.core.MarkPurged(purgeKey{zone, body.kind}, body.items, now)
		return ok(map[string]string{"id": zone})
	})
}

// tooManyItems answers a purge of more items than a call may carry: 400
// with the item error, then CodePurgeErrors's wrapper. The message follows
// the words a public report quotes ("cannot provide more than 100 items",
// cloudflare-docs#21338); the code is Options.TooManyItemsCode, by default
// the stand-in CodeTooManyItems, since Cloudflare's real code for this is
// neither documented nor found in public reports.
func (s *Server) tooManyItems() answer {
	code := s.opts.TooManyItemsCode
	if code == 0 {
		code = CodeTooManyItems
	}
	return fail(http.StatusBadRequest,
		apiError{Code: code, Message: fmt.Sprintf(MsgTooManyItems, s.maxItems)},
		apiError{Code: CodePurgeErrors, Message: "One or more cache purge errors"},
	)
}

// spend takes a purge call's tokens from its bucket, its zone's plan's:
// one per URL for single-file purges, one per call for the others.
func (s *Server) spend(now time.Time, zone string, body purgeBody) (bool, time.Duration) {
	s.core.Lock()
	defer s.core.Unlock()
	url, flex := s.urlBucket, s.flexBucket
	if b, ok := s.planBuckets[zone]; ok {
		url, flex = b.url, b.flex
	}
	if body.kind == KindFiles {
		return url.Take(now, len(body.items))
	}
	return flex.Take(now, 1)
}

// handleVerify serves GET /user/tokens/verify, which verifies user tokens
// only: Cloudflare documents account-owned tokens as verified at
// /accounts/{account_id}/tokens/verify, and public reports show this
// endpoint answering them 401. The stand-in answers them as an unknown
// token, code 1000; that code is not confirmed for this case.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path}
	s.serve(w, r, call, true, func(tok Token) answer {
		if tok.Account != "" {
			return invalidAPIToken()
		}
		return tokenActive()
	})
}

// handleAccountVerify serves GET /accounts/{account_id}/tokens/verify,
// which verifies the tokens owned by that account, with the same envelope
// as the user endpoint. What it answers a user token or another account's
// token is not documented; the stand-in answers as for an unknown token
// (401, code 1000), and Call.Account records the account asked.
func (s *Server) handleAccountVerify(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path, Account: account}
	s.serve(w, r, call, true, func(tok Token) answer {
		if tok.Account == "" || tok.Account != account {
			return invalidAPIToken()
		}
		return tokenActive()
	})
}

// tokenActive is a verify endpoint's answer for a valid, active token.
func tokenActive() answer {
	return ok(map[string]string{"id": "ed17574386854bf78a67040be0a770b0", "status": "active"},
		apiError{Code: CodeTokenValid, Message: "This API Token is valid and active"})
}

// handleZone serves GET /zones/{zone_id}.
func (s *Server) handleZone(w http.ResponseWriter, r *http.Request) {
	zone := r.PathValue("zone_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path, Zone: zone}
	s.serve(w, r, call, false, func(tok Token) answer {
		if !s.zones.Known(zone) {
			return invalidZone("/zones/" + zone)
		}
		if !tok.may(PermZoneRead, zone) {
			return zoneReadDenied()
		}
		name := s.opts.ZoneNames[zone]
		if name == "" {
			name = zone + ".example.com"
		}
		return ok(map[string]any{"id": zone, "name": name, "status": "active", "paused": false, "type": "full"})
	})
}
