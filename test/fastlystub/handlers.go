package fastlystub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serve runs one API call: it waits out the injected latency or hang, then
// answers with the injected failure, the authentication refusal, the
// rate-limit refusal (purges only) or work's answer, and records the call.
// A purge call spends a token of the bucket once authenticated, whatever
// its outcome, and its answer carries Fastly's rate-limit headers when a
// limit is set.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, call Call, work func(token string, now time.Time) answer) {
	s.core.Hold(r, call)
	now := time.Now()
	a, failed := s.injected(now)
	if !failed {
		token, refusal, refused := s.authenticate(r)
		switch {
		case refused:
			a = refusal
		case call.Kind != "":
			a = s.throttle(now, func() answer { return s.counted(token, call.Kind, now, func() answer { return work(token, now) }) })
		default:
			a = work(token, now)
		}
	}
	if !failed {
		a.reshape(s.opts.ErrorShape)
	}
	a.write(w)
	call.Status = a.status
	s.core.Record(call)
}

// throttle spends one token of the purge bucket and runs work, or refuses
// the call with 429 when the bucket is empty.
func (s *Server) throttle(now time.Time, work func() answer) answer {
	s.core.Lock()
	b := s.bucket
	if b == nil {
		s.core.Unlock()
		return work()
	}
	passed, wait := b.Take(now, 1)
	remaining, full := b.Remaining(), now.Add(b.UntilFull())
	s.core.Unlock()
	if !passed {
		a := fail(http.StatusTooManyRequests, MsgRateLimited, "Purge rate limit exceeded")
		a.rateHeaders(0, now.Add(wait))
		if !s.opts.OmitRetryAfter {
			a.retryAfter(wait)
		}
		return a
	}
	a := work()
	if a.header.Get(HeaderRateLimitRemaining) == "" {
		// The hourly budget's headers, on a counted call, say more.
		a.rateHeaders(remaining, full)
	}
	return a
}

// counted runs work for a call Fastly counts against the token's hourly
// API budget (purge_all; not URL or key purges), spending one, with
// Fastly's rate-limit headers on the answer; or refuses it with 429 when
// the hour is spent. Other calls just run.
func (s *Server) counted(token, kind string, now time.Time, work func() answer) answer {
	if kind != KindAll || s.opts.APIPerHour < 0 {
		return work()
	}
	s.core.Lock()
	w := s.window(token, now)
	spent := w.remaining <= 0
	if !spent {
		w.remaining--
	}
	remaining, reset := w.remaining, w.reset
	s.core.Unlock()
	if spent {
		a := fail(http.StatusTooManyRequests, MsgRateLimited, "Hourly API rate limit exceeded")
		a.rateHeaders(0, reset)
		return a
	}
	a := work()
	a.rateHeaders(remaining, reset)
	return a
}

// window is token's hourly API window at now, a fresh one from the top of
// the hour once the last has reset; the caller holds the core's lock.
func (s *Server) window(token string, now time.Time) *apiWindow {
	w := s.hours[token]
	if w == nil || !now.Before(w.reset) {
		limit := s.opts.APIPerHour
		if limit == 0 {
			limit = DefaultAPIPerHour
		}
		w = &apiWindow{remaining: limit, reset: now.Truncate(time.Hour).Add(time.Hour)}
		s.hours[token] = w
	}
	return w
}

// unknownService is the answer for a service ID the stand-in does not know.
func unknownService(id string) answer {
	return fail(http.StatusNotFound, MsgNotFound, fmt.Sprintf("Cannot find service '%s'", id))
}

// soft reports whether the request asks for a soft purge: Fastly looks only
// at the header's presence.
func soft(r *http.Request) bool { return len(r.Header.Values("Fastly-Soft-Purge")) > 0 }

// purgeID hands out a purge id in Fastly's "<n>-<unix>-<n>" form.
func (s *Server) purgeID(now time.Time) string {
	s.core.Lock()
	defer s.core.Unlock()
	s.seq++
	return fmt.Sprintf("108-%d-%d", now.Unix(), s.seq)
}

// handlePurgeURL serves POST /purge/{host}{path}, the API-side URL purge.
func (s *Server) handlePurgeURL(w http.ResponseWriter, r *http.Request) {
	item := strings.TrimPrefix(r.URL.EscapedPath(), "/purge/")
	if r.URL.RawQuery != "" {
		item += "?" + r.URL.RawQuery
	}
	host, _, _ := strings.Cut(item, "/")
	host, _, _ = strings.Cut(host, "?")
	service := s.opts.Domains[host]
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Service: service,
		Kind: KindURL, Items: []string{item}, Soft: soft(r)}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		if !s.allowed(token, ScopePurgeSelect) {
			return forbidden()
		}
		if host == "" {
			return fail(http.StatusBadRequest, MsgBadRequest, "No URL to purge")
		}
		s.core.MarkPurged(service, call.Items, now)
		return ok(map[string]string{"status": "ok", "id": s.purgeID(now)})
	})
}

// handlePurgeKeys serves POST /service/{service_id}/purge, the batch
// surrogate-key purge: keys in a {"surrogate_keys": [...]} body or, when
// the body is empty, space-separated in a Surrogate-Key header.
func (s *Server) handlePurgeKeys(w http.ResponseWriter, r *http.Request) {
	service := r.PathValue("service_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Service: service,
		Kind: KindKeys, Soft: soft(r)}
	data, readErr := io.ReadAll(r.Body)
	keys, parseErr := parseKeys(data, r.Header.Get("Surrogate-Key"))
	if readErr == nil && parseErr == nil {
		call.Items = keys
	}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		if !s.allowed(token, ScopePurgeSelect) {
			return forbidden()
		}
		if !s.services.Known(service) {
			return unknownService(service)
		}
		if readErr != nil {
			return fail(http.StatusBadRequest, MsgBadRequest, "Could not read request body")
		}
		if parseErr != nil {
			return fail(http.StatusBadRequest, MsgBadRequest, parseErr.Error())
		}
		if len(keys) > s.maxKeys {
			return tooManyKeys(s.maxKeys)
		}
		s.core.MarkPurged(service, keys, now)
		ids := make(map[string]string, len(keys))
		for _, k := range keys {
			ids[k] = s.purgeID(now)
		}
		return ok(ids)
	})
}

// tooManyKeys is the batch purge's answer for more than limit keys, in
// the shape and words Fastly was seen to answer it (fastly-magento2#104):
// 400 {"status":"fail","reason":"Batch surrogate key request only supports
// up to 256 surrogate keys"}.
func tooManyKeys(limit int) answer {
	return answer{status: http.StatusBadRequest, body: statusFail{Status: "fail",
		Reason: fmt.Sprintf(ReasonTooManyKeys, limit)}}
}

// parseKeys reads a batch purge's keys from its body or, when the body is
// empty, from its Surrogate-Key header. Its errors are the answer's detail,
// hence capitalised.
func parseKeys(body []byte, header string) ([]string, error) {
	var keys []string
	if len(bytes.TrimSpace(body)) == 0 {
		keys = strings.Fields(header)
	} else {
		var b struct {
			SurrogateKeys []string `json:"surrogate_keys"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, errors.New(`Body must be a JSON object with a "surrogate_keys" array`)
		}
		keys = b.SurrogateKeys
	}
	if len(keys) == 0 {
		return nil, errors.New("No surrogate keys given")
	}
	if slices.Contains(keys, "") {
		return nil, errors.New("Surrogate keys must not be empty")
	}
	return keys, nil
}

// handlePurgeKey serves POST /service/{service_id}/purge/{key}, the
// single surrogate-key purge.
func (s *Server) handlePurgeKey(w http.ResponseWriter, r *http.Request) {
	service, key := r.PathValue("service_id"), r.PathValue("key")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Service: service,
		Kind: KindKeys, Items: []string{key}, Soft: soft(r)}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		if !s.allowed(token, ScopePurgeSelect) {
			return forbidden()
		}
		if !s.services.Known(service) {
			return unknownService(service)
		}
		s.core.MarkPurged(service, call.Items, now)
		return ok(map[string]string{"status": "ok", "id": s.purgeID(now)})
	})
}

// handlePurgeAll serves POST /service/{service_id}/purge_all. Fastly
// cannot soft-purge everything: the purge is hard even when the call
// carries Fastly-Soft-Purge (Call.Soft still records the header).
func (s *Server) handlePurgeAll(w http.ResponseWriter, r *http.Request) {
	service := r.PathValue("service_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Service: service,
		Kind: KindAll, Items: []string{AllItem}, Soft: soft(r)}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		if !s.allowed(token, ScopePurgeAll) {
			return forbidden()
		}
		if !s.services.Known(service) {
			return unknownService(service)
		}
		s.core.MarkPurged(service, call.Items, now)
		return ok(map[string]string{"status": "ok"})
	})
}

// handleTokenSelf serves GET /tokens/self: the token used, never its value.
func (s *Server) handleTokenSelf(w http.ResponseWriter, r *http.Request) {
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath()}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		return ok(map[string]any{
			"id":          "token" + strconv.Itoa(slices.Index(s.opts.Tokens, token)+1),
			"name":        "edgepurge stand-in",
			"user_id":     "stubuser",
			"customer_id": "stubcustomer",
			"services":    []string{},
			"scope":       strings.Join(s.scopes(token), " "),
			"created_at":  "2024-01-01T00:00:00Z",
			"expires_at":  nil,
		})
	})
}

// handleService serves GET /service/{service_id}.
func (s *Server) handleService(w http.ResponseWriter, r *http.Request) {
	service := r.PathValue("service_id")
	call := Call{At: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Service: service}
	s.serve(w, r, call, func(token string, now time.Time) answer {
		if !s.allowed(token, ScopeGlobalRead) {
			return forbidden()
		}
		if !s.services.Known(service) {
			return unknownService(service)
		}
		name := s.opts.ServiceNames[service]
		if name == "" {
			name = service + "-name"
		}
		return ok(map[string]any{
			"id":          service,
			"name":        name,
			"customer_id": "stubcustomer",
			"type":        "vcl",
			"comment":     "",
			"created_at":  "2024-01-01T00:00:00Z",
			"updated_at":  "2024-01-01T00:00:00Z",
			"deleted_at":  nil,
			"versions":    []map[string]any{{"number": 1, "active": true, "locked": true}},
		})
	})
}

// handleNoRoute answers paths the stand-in does not serve.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	a := fail(http.StatusNotFound, "Not found", "No route for "+r.Method+" "+r.URL.EscapedPath())
	a.write(w)
	s.core.Record(Call{At: at, Method: r.Method, Path: r.URL.EscapedPath(), Status: a.status})
}
