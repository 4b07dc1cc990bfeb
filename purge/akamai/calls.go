package akamai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// Object kinds, as Fast Purge's paths name them.
const (
	kindURL = "url"
	kindTag = "tag"
)

// Actions, as Fast Purge's paths name them.
const (
	actionInvalidate = "invalidate"
	actionDelete     = "delete"
)

// call is one Fast Purge call.
type call struct {
	kind   string
	action string
	items  []string
	body   []byte // {"objects":[...]}
}

// bodyOverhead is the bytes of {"objects":[]} around the objects.
const bodyOverhead = len(`{"objects":[]}`)

// plan checks a request and splits it into calls of at most maxObjects
// objects and maxBody bytes of body. It refuses, with a permanent
// *purge.Error, a request with hosts, prefixes or everything (Fast Purge
// cannot purge them), with URLs that are not absolute http(s) URLs, with
// tags Akamai does not allow (ValidTag), or with an object that alone
// would not fit a call.
func (p *Purger) plan(req purge.Request) ([]call, *purge.Error) {
	op := "purge akamai " + p.network
	var problems []string
	if len(req.Hosts) > 0 {
		problems = append(problems, "hosts "+list(req.Hosts))
	}
	if len(req.Prefixes) > 0 {
		problems = append(problems, "prefixes "+list(req.Prefixes))
	}
	if req.Everything {
		problems = append(problems, "everything")
	}
	if len(problems) > 0 {
		return nil, &purge.Error{Op: op, Message: "Akamai Fast Purge cannot purge by host or prefix, nor everything but by CP code, which edgepurge does not map (use cache tags): " +
			strings.Join(problems, "; ") + "; nothing was purged"}
	}
	var bad []string
	urls := make([]string, len(req.URLs))
	for i, u := range req.URLs {
		var ok bool
		if urls[i], ok = asciiURL(u); !ok {
			bad = append(bad, u)
		}
	}
	if len(bad) > 0 {
		return nil, &purge.Error{Op: op, Message: "URLs Fast Purge cannot take (not absolute http(s) URLs, or a non-ASCII host): " + list(bad) + "; nothing was purged"}
	}
	for _, t := range req.Tags {
		if !ValidTag(t) {
			bad = append(bad, t)
		}
	}
	if len(bad) > 0 {
		return nil, &purge.Error{Op: op, Message: "tags Akamai cannot carry (" + TagRule + "): " + list(bad) + "; nothing was purged"}
	}
	action := actionDelete
	if p.soft || req.Soft {
		action = actionInvalidate
	}
	var calls []call
	for _, k := range []struct {
		kind  string
		items []string
	}{{kindURL, urls}, {kindTag, req.Tags}} {
		batches, tooLong := p.split(k.items)
		if tooLong != "" {
			return nil, &purge.Error{Op: op, Message: fmt.Sprintf("%s %q is too long for one Fast Purge call of %d bytes; nothing was purged", k.kind, tooLong, p.maxBody)}
		}
		for _, b := range batches {
			calls = append(calls, call{kind: k.kind, action: action, items: b, body: objectsBody(b)})
		}
	}
	return calls, nil
}

// split cuts items into batches of at most maxObjects whose bodies fit
// maxBody; tooLong is an item that alone does not fit.
func (p *Purger) split(items []string) (batches [][]string, tooLong string) {
	start, size := 0, bodyOverhead
	for i, it := range items {
		n := jsonLen(it)
		if bodyOverhead+n > p.maxBody {
			return nil, it
		}
		extra := n
		if i > start {
			extra++ // the comma
		}
		if i-start == p.maxObjects || size+extra > p.maxBody {
			batches = append(batches, items[start:i])
			start, size, extra = i, bodyOverhead, n
		}
		size += extra
	}
	if start < len(items) {
		batches = append(batches, items[start:])
	}
	return batches, ""
}

// jsonLen is the length of s as a JSON string.
func jsonLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b)
}

// objectsBody is Fast Purge's request body.
func objectsBody(items []string) []byte {
	b, _ := json.Marshal(struct {
		Objects []string `json:"objects"`
	}{items})
	return b
}

// list names at most ten items, then how many more there are.
func list(items []string) string {
	const most = 10
	if len(items) <= most {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:most], ", "), len(items)-most)
}

// op names the call in errors: "invalidate 30 urls on akamai production",
// or without the network when network is "".
func (c call) op(network string) string {
	what := fmt.Sprintf("%s %d %ss", c.action, len(c.items), c.kind)
	if len(c.items) == 1 {
		what = fmt.Sprintf("%s %s %s", c.action, c.kind, c.items[0])
	}
	if network == "" {
		return what
	}
	return what + " on akamai " + network
}

// purgeAnswer is Fast Purge's answer to an accepted purge (201).
type purgeAnswer struct {
	HTTPStatus       int    `json:"httpStatus"`
	Detail           string `json:"detail"`
	EstimatedSeconds int    `json:"estimatedSeconds"`
	PurgeID          string `json:"purgeId"`
	SupportID        string `json:"supportId"`
}

// send makes one call and returns how many of its objects Fast Purge
// accepted: all or none, as it accepts or refuses a call whole.
func (p *Purger) send(ctx context.Context, c call) (int, *purge.Error) {
	op := c.op(p.network)
	path := "/ccu/v3/" + c.action + "/" + c.kind + "/" + p.network
	var ans purgeAnswer
	if pe := p.post(ctx, op, path, c.body, &ans); pe != nil {
		return 0, pe
	}
	if ans.PurgeID == "" && ans.HTTPStatus != http.StatusCreated {
		return 0, &purge.Error{Op: op, StatusCode: http.StatusCreated, Retryable: true,
			Message: p.redact(fmt.Sprintf("answer without a purgeId (httpStatus %d, detail %q)", ans.HTTPStatus, ans.Detail))}
	}
	if p.onEstimate != nil {
		p.onEstimate(time.Duration(ans.EstimatedSeconds) * time.Second)
	}
	return len(c.items), nil
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

// userAgent identifies edgepurge's calls.
const userAgent = "edgepurge"

// post makes one signed POST of body to path. A 2xx answer is decoded into
// out; anything else becomes a *purge.Error (see answerError and
// purge.Unanswered).
func (p *Purger) post(ctx context.Context, op, path string, body []byte, out any) *purge.Error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return &purge.Error{Op: op, Message: p.redact("build request: " + err.Error())}
	}
	// The signature names the API client's host, wherever the call goes
	// (a stand-in's base URL): Akamai checks the Host header against it.
	req.Host = p.host
	scheme := req.URL.Scheme
	// Fast Purge is served over HTTPS only: a stand-in served over HTTP
	// checks the signature as Akamai would.
	req.URL.Scheme = "https"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Authorization", p.signer.Authorization(req, body, Timestamp(p.now()), NewNonce()))
	req.URL.Scheme = scheme
	res, err := p.hc.Do(req)
	if err != nil {
		return purge.Unanswered(ctx, op, err, p.secrets()...)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	_ = res.Body.Close()
	if err != nil {
		return purge.Unanswered(ctx, op, fmt.Errorf("read answer: %w", err), p.secrets()...)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return p.answerError(op, res, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		// Not Fast Purge's JSON: the call may or may not have gone
		// through, and purging again is harmless.
		return &purge.Error{Op: op, StatusCode: res.StatusCode, Retryable: true,
			Message: p.redact("unreadable answer: " + purge.Clip(err.Error()))}
	}
	return nil
}

// MaxTagLength is the longest cache tag Akamai takes.
const MaxTagLength = 128

// TagRule says what ValidTag accepts, for error messages.
const TagRule = "an Akamai cache tag is 1 to 128 letters, digits and !#$%'+./^_`|~- (no ':', spaces or commas)"

// ValidTag reports whether tag is a cache tag Akamai can carry: at most
// MaxTagLength characters, alphanumeric or of [!#$%'+./^_`|~-]
// (https://techdocs.akamai.com/property-mgr/reference/ga-cache-tag).
func ValidTag(tag string) bool {
	if tag == "" || len(tag) > MaxTagLength {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if !tagByte(tag[i]) {
			return false
		}
	}
	return true
}

// ValidTagTemplate reports whether a tag template's literal text (all but
// its {placeholders}) is made of characters Akamai's cache tags allow;
// it returns the first character that is not.
func ValidTagTemplate(tmpl string) (bad byte, ok bool) {
	depth := 0
	for i := 0; i < len(tmpl); i++ {
		switch c := tmpl[i]; {
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth == 0 && !tagByte(c):
			return c, false
		}
	}
	return 0, true
}

// tagByte reports whether c may be in an Akamai cache tag.
func tagByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%'+./^_`|~-", c) >= 0
}
