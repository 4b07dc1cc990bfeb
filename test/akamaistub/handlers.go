package akamaistub

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/edgepurge/edgepurge/purge/akamai"
	"github.com/edgepurge/edgepurge/test/standin"
)

// Gateway's 401 details.
const (
	DetailNoAuth       = "Missing or malformed authorization header"
	DetailClientToken  = "Invalid client token"
	DetailAccessToken  = "Invalid access token"
	DetailTimestamp    = "Invalid timestamp"
	DetailHost         = "Invalid host"
	DetailSignature    = "The signature does not match"
	DetailNoPermission = "The client is not authorized to access this resource: it lacks the CCU APIs grant"
)

// TypeAuthnDeny is the type of the gateway's 401 problem.
const TypeAuthnDeny = "https://problems.luna.akamaiapis.net/-/pep-authn/deny"

// describedBy is Fast Purge's describedBy link in its error bodies.
const describedBy = "https://developer.akamai.com/api/core_features/fast_purge/v3.html#httpcodes"

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   any
	detail string
}

func (a answer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if a.status >= 400 {
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// purgeProblem is Fast Purge's own error answer.
func (s *Server) purgeProblem(status int, title, detail string) answer {
	return answer{status: status, detail: detail, header: http.Header{}, body: map[string]any{
		"supportId": s.supportID(), "httpStatus": status, "title": title, "detail": detail, "describedBy": describedBy,
	}}
}

// authnDeny is the gateway's 401.
func authnDeny(r *http.Request, detail string) answer {
	return answer{status: http.StatusUnauthorized, detail: detail, header: http.Header{}, body: map[string]any{
		"type": TypeAuthnDeny, "title": "Not authorized", "status": 401, "detail": detail,
		"instance": "https://" + r.Host + r.URL.Path, "method": r.Method,
	}}
}

func (s *Server) supportID() string {
	s.core.Lock()
	defer s.core.Unlock()
	s.seq++
	return fmt.Sprintf("17PY%d-%d", s.opts.Now().Unix(), s.seq)
}

// authenticate checks the EdgeGrid signature of r with body.
func (s *Server) authenticate(r *http.Request, body []byte) (Client, *answer) {
	deny := func(d string) (Client, *answer) { a := authnDeny(r, d); return Client{}, &a }
	p, ok := akamai.ParseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return deny(DetailNoAuth)
	}
	c, known := s.clients[p.ClientToken]
	if !known {
		return deny(DetailClientToken)
	}
	if p.AccessToken != c.AccessToken {
		return deny(DetailAccessToken)
	}
	ts, err := time.Parse(akamai.TimestampFormat, p.Timestamp)
	if err != nil {
		return deny(DetailTimestamp)
	}
	if d := s.opts.Now().Sub(ts); d > s.opts.MaxSkew || d < -s.opts.MaxSkew {
		return deny(DetailTimestamp)
	}
	if s.opts.Host != "" && r.Host != s.opts.Host {
		return deny(DetailHost)
	}
	signer := akamai.Signer{Credentials: akamai.Credentials{ClientSecret: c.ClientSecret}}
	if want := signer.Signature(r, body, p); !hmac.Equal([]byte(want), []byte(p.Signature)) {
		return deny(DetailSignature)
	}
	return c, nil
}

// handlePurge serves POST /ccu/v3/{action}/{kind}/{network}.
func (s *Server) handlePurge(w http.ResponseWriter, r *http.Request) {
	call := Call{At: time.Now(), Path: r.URL.EscapedPath(), Action: r.PathValue("action"),
		Kind: r.PathValue("kind"), Network: r.PathValue("network")}
	if p, ok := akamai.ParseAuthorization(r.Header.Get("Authorization")); ok {
		call.ClientToken = p.ClientToken
	}
	body, readErr := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxBody)+1))
	var req struct {
		Objects []json.RawMessage `json:"objects"`
	}
	parseErr := json.Unmarshal(body, &req)
	var items []string
	for _, o := range req.Objects {
		var it string
		if json.Unmarshal(o, &it) == nil {
			items = append(items, it)
		} else {
			items = append(items, string(o)) // a CP code is a number
		}
	}
	call.Items = items
	s.core.Hold(r, call)
	a := s.serve(r, call, body, readErr, parseErr)
	a.write(w)
	call.Status, call.Detail = a.status, a.detail
	s.core.Record(call)
}

func (s *Server) serve(r *http.Request, call Call, body []byte, readErr, parseErr error) answer {
	now := s.opts.Now()
	if f, failed := s.core.Failure(); failed {
		title := f.Title
		if title == "" {
			title = http.StatusText(f.Status)
		}
		a := s.purgeProblem(f.Status, title, f.Detail)
		if f.RetryAfter > 0 {
			a.header.Set("Retry-After", standin.RetryAfter(f.RetryAfter))
		}
		return a
	}
	if readErr != nil {
		return s.purgeProblem(http.StatusBadRequest, "Bad request", "could not read the body")
	}
	if len(body) > s.opts.MaxBody {
		// The body is signed whole: refuse its size before the signature.
		return s.purgeProblem(http.StatusRequestEntityTooLarge, "Request Entity Too Large",
			fmt.Sprintf("The request body is larger than %d bytes", s.opts.MaxBody))
	}
	client, deny := s.authenticate(r, body)
	if deny != nil {
		return *deny
	}
	if client.NoPurge {
		return answer{status: http.StatusForbidden, detail: DetailNoPermission, header: http.Header{}, body: map[string]any{
			"type": "https://problems.luna.akamaiapis.net/-/pep-authz/deny", "title": "Forbidden", "status": 403,
			"detail": DetailNoPermission, "instance": "https://" + r.Host + r.URL.Path, "method": r.Method,
		}}
	}
	switch {
	case call.Action != ActionInvalidate && call.Action != ActionDelete,
		call.Kind != KindURL && call.Kind != KindTag && call.Kind != KindCPCode,
		call.Network != "production" && call.Network != "staging":
		return s.purgeProblem(http.StatusNotFound, "Not Found", "no such resource: "+call.Path)
	}
	if parseErr != nil || len(call.Items) == 0 {
		return s.purgeProblem(http.StatusBadRequest, "Bad request", "The request body must be a JSON object with a non-empty objects array")
	}
	if call.Kind == KindTag {
		for _, tag := range call.Items {
			if !akamai.ValidTag(tag) {
				// The stand-in's words: Akamai documents the rule, not the answer.
				return s.purgeProblem(http.StatusBadRequest, "bad cache tag", fmt.Sprintf("Invalid cache tag %q", tag))
			}
		}
	}
	if a, limited := s.throttle(now, call.Kind, len(call.Items)); limited {
		return a
	}
	s.core.MarkPurged(call.Network, call.Items, time.Now())
	support := s.supportID()
	return answer{status: http.StatusCreated, header: http.Header{}, body: map[string]any{
		"httpStatus": 201, "detail": "Request accepted", "estimatedSeconds": s.opts.EstimatedSeconds,
		"purgeId": "e535071c-" + support, "supportId": support,
	}}
}

// throttle takes a request token and n object tokens of kind, all or none,
// or answers 429 as Akamai's examples do.
func (s *Server) throttle(now time.Time, kind string, n int) (answer, bool) {
	s.core.Lock()
	req, obj := s.requests, s.objects[kind]
	okReq, waitReq := peek(req, now, 1)
	okObj, waitObj := peek(obj, now, n)
	if okReq && okObj {
		req.Take(now, 1)
		obj.Take(now, n)
		s.core.Unlock()
		return answer{}, false
	}
	remReq, remObj := remaining(req), remaining(obj)
	s.core.Unlock()
	title, wait := "Rate Limit exceeded", waitReq
	if okReq {
		title, wait = map[string]string{KindURL: "URL", KindTag: "Cache Tag"}[kind]+" Rate Limit exceeded", waitObj
	}
	a := s.purgeProblem(http.StatusTooManyRequests, title, "You have exceeded the rate limit")
	a.header.Set("X-Ratelimit-Remaining", strconv.Itoa(remReq))
	a.header.Set("X-Ratelimit-Limit", strconv.Itoa(max(s.opts.RequestBurst, 0)))
	a.header.Set("X-Ratelimit-Remaining-Objects", strconv.Itoa(remObj))
	if s.opts.RetryAfter {
		a.header.Set("Retry-After", standin.RetryAfter(wait))
	}
	return a, true
}

// peek says whether b holds n tokens, spending nothing: a take that
// succeeds is given back by taking nothing (refill keeps its time).
func peek(b *standin.Bucket, now time.Time, n int) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	// Take(0) refills without spending; Remaining then says what is there.
	b.Take(now, 0)
	if b.Remaining() >= n {
		return true, 0
	}
	_, wait := b.Take(now, n)
	return false, wait
}

func remaining(b *standin.Bucket) int {
	if b == nil {
		return -1
	}
	return b.Remaining()
}

// handleNoRoute answers what the stand-in does not serve.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	a := s.purgeProblem(http.StatusNotFound, "Not Found", "no such resource: "+r.Method+" "+r.URL.Path)
	a.write(w)
	s.core.Record(Call{At: time.Now(), Path: r.URL.EscapedPath(), Status: a.status, Detail: a.detail})
}
