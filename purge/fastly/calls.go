package fastly

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// Call kinds.
const (
	kindURL  = "url"
	kindKeys = "keys"
	kindAll  = "all"
)

// call is one purge API call.
type call struct {
	kind  string
	items []string // the URL, the keys, or nothing for kindAll
	path  string   // API-side path of a URL purge: {host}{path}[?query]
	soft  bool
}

// plan checks a request and splits it into calls: key batches of at most
// maxKeys, one call per URL, and purge_all. It refuses, with a permanent
// *purge.Error, a request without a service, with hosts or prefixes
// (Fastly's API cannot purge them), or with URLs it cannot purge.
func (p *Purger) plan(req purge.Request) ([]call, *purge.Error) {
	op := "purge fastly service " + req.Zone
	if req.Zone == "" {
		return nil, &purge.Error{Op: "purge fastly", Message: "request has no service id"}
	}
	var problems []string
	if len(req.Hosts) > 0 {
		problems = append(problems, "hosts "+list(req.Hosts))
	}
	if len(req.Prefixes) > 0 {
		problems = append(problems, "prefixes "+list(req.Prefixes))
	}
	if len(problems) > 0 {
		return nil, &purge.Error{Op: op, Message: "Fastly cannot purge by host or prefix (use surrogate keys): " +
			strings.Join(problems, "; ") + "; nothing was purged"}
	}
	var calls []call
	var bad []string
	for _, raw := range req.URLs {
		path, ok := apiPath(raw)
		if !ok {
			bad = append(bad, raw)
			continue
		}
		calls = append(calls, call{kind: kindURL, items: []string{raw}, path: path, soft: p.soft || req.Soft})
	}
	if len(bad) > 0 {
		return nil, &purge.Error{Op: op, Message: "not absolute http(s) URLs: " + list(bad) + "; nothing was purged"}
	}
	for start := 0; start < len(req.Tags); start += p.maxKeys {
		end := min(start+p.maxKeys, len(req.Tags))
		calls = append(calls, call{kind: kindKeys, items: req.Tags[start:end], soft: p.soft || req.Soft})
	}
	if req.Everything {
		// Fastly cannot soft-purge everything; purge_all is always hard.
		calls = append(calls, call{kind: kindAll})
	}
	return calls, nil
}

// apiPath turns an absolute URL into the {host}{path}[?query] of an
// API-side URL purge, escaped as sent.
func apiPath(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return u.Host + path, true
}

// list names at most ten items, then how many more there are.
func list(items []string) string {
	const most = 10
	if len(items) <= most {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:most], ", "), len(items)-most)
}

// op names the call in errors: "soft purge 30 surrogate keys in fastly
// service S", or without the service when service is "".
func (c call) op(service string) string {
	verb := "purge"
	if c.soft {
		verb = "soft purge"
	}
	var what string
	switch c.kind {
	case kindURL:
		what = fmt.Sprintf("%s url %s", verb, c.items[0])
	case kindKeys:
		what = fmt.Sprintf("%s %d surrogate keys", verb, len(c.items))
	default:
		what = "purge all"
	}
	if service == "" {
		return what
	}
	return fmt.Sprintf("%s in fastly service %s", what, service)
}

// purgeAnswer is the answer of a URL purge and of purge_all.
type purgeAnswer struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

// send makes one call and returns how many of its items Fastly accepted. A
// 403 names the scope the call needs (purge_select, or purge_all for
// purge_all) in the error's Permission.
func (p *Purger) send(ctx context.Context, service string, c call) (int, *purge.Error) {
	n, pe := p.sendCall(ctx, service, c)
	return n, refused(pe, scopeOf(c.kind), "")
}

// sendCall is send without the scope's explanation.
func (p *Purger) sendCall(ctx context.Context, service string, c call) (int, *purge.Error) {
	op := c.op(service)
	switch c.kind {
	case kindURL:
		var ans purgeAnswer
		if pe := p.call(ctx, op, http.MethodPost, "/purge/"+c.path, nil, c.soft, &ans); pe != nil {
			return 0, pe
		}
		if ans.Status != "ok" {
			return 0, &purge.Error{Op: op, StatusCode: http.StatusOK, Retryable: true,
				Message: p.redact(fmt.Sprintf("answer status %q, not \"ok\"", ans.Status))}
		}
		return 1, nil
	case kindKeys:
		body := map[string][]string{"surrogate_keys": c.items}
		ids := map[string]string{}
		if pe := p.call(ctx, op, http.MethodPost, servicePath(service, "purge"), body, c.soft, &ids); pe != nil {
			return 0, pe
		}
		var missing []string
		for _, k := range c.items {
			if ids[k] == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return len(c.items) - len(missing), &purge.Error{Op: op, StatusCode: http.StatusOK, Retryable: true,
				Message: p.redact("answer has no purge id for keys " + list(missing))}
		}
		return len(c.items), nil
	default:
		var ans purgeAnswer
		if pe := p.call(ctx, op, http.MethodPost, servicePath(service, "purge_all"), nil, false, &ans); pe != nil {
			return 0, pe
		}
		if ans.Status != "ok" {
			return 0, &purge.Error{Op: op, StatusCode: http.StatusOK, Retryable: true,
				Message: p.redact(fmt.Sprintf("answer status %q, not \"ok\"", ans.Status))}
		}
		return 1, nil
	}
}

// servicePath is /service/{id} followed by more path segments.
func servicePath(service string, more ...string) string {
	parts := append([]string{"", "service", url.PathEscape(service)}, more...)
	return strings.Join(parts, "/")
}
