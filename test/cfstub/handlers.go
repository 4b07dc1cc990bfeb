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
func (s *Server) serve(w http.ResponseWriter, r *http.Request, call Call, verify bool, work func() answer) {
	s.core.Hold(r, call)
	a, failed := s.injected()
	if !failed {
		var refused bool
		if a, refused = s.authenticate(r, verify); !refused {
			a = work()
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
	s.serve(w, r, call, false, func() answer {
		if !s.zones.Known(zone) {
			return invalidZone("/zones/" + zone + "/purge_cache")
		}
		if readErr != nil {
			return fail(http.StatusBadRequest, apiError{Code: CodeBadPurgeBody, Message: "Could not read request body"})
		}
		if parseErr != nil {
			return fail(http.StatusBadRequest, apiError{Code: CodeBadPurgeBody, Message: parseErr.Error()})
		}
		if body.kind != KindEverything && len(body.items) > s.maxItems {
			return fail(http.StatusBadRequest,
				apiError{Code: CodeTooManyItems, Message: fmt.Sprintf("Too many items in request, cannot provide more than %d items per request", s.maxItems)},
				apiError{Code: CodePurgeErrors, Message: "One or more cache purge errors"},
			)
		}
		now := time.Now()
		if ok, wait := s.spend(now, body); !ok {
			a := fail(http.StatusTooManyRequests, apiError{Code: CodeRateLimited, Message: "Please wait and consider throttling your request speed"})
			a.retryAfter = wait
			return a
		}
		s.core.MarkPurged(purgeKey{zone, body.kind}, body.items, now)
		return ok(map[string]string{"id": zone})
	})
}

// spend takes a purge call's tokens from its bucket: one per URL for
// single-file purges, one per call for the others.
func (s *Server) spend(now time.Time, body purgeBody) (bool, time.Duration) {
	s.core.Lock()
	defer s.core.Unlock()
	if body.kind == KindFiles {
		return s.urlBucket.Take(now, len(body.items))
	}
	return s.flexBucket.Take(now, 1)
}

// handleVerify serves GET /user/tokens/verify.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path}
	s.serve(w, r, call, true, func() answer {
		return ok(map[string]string{"id": "ed17574386854bf78a67040be0a770b0", "status": "active"},
			apiError{Code: CodeTokenValid, Message: "This API Token is valid and active"})
	})
}

// handleZone serves GET /zones/{zone_id}.
func (s *Server) handleZone(w http.ResponseWriter, r *http.Request) {
	zone := r.PathValue("zone_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.Path, Zone: zone}
	s.serve(w, r, call, false, func() answer {
		if !s.zones.Known(zone) {
			return invalidZone("/zones/" + zone)
		}
		name := s.opts.ZoneNames[zone]
		if name == "" {
			name = zone + ".example.com"
		}
		return ok(map[string]any{"id": zone, "name": name, "status": "active", "paused": false, "type": "full"})
	})
}
