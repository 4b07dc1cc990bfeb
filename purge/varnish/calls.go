package varnish

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// Headers the reference VCL reads.
const (
	HeaderXkey          = "xkey"
	HeaderXkeySoftPurge = "xkey-softpurge"
	HeaderBanHost       = "X-Ban-Host"
	HeaderBanPrefix     = "X-Ban-Prefix"
	HeaderBanAll        = "X-Ban-All"
	// MethodPurge evicts one URL (all its variants) or, with an xkey
	// header, every object carrying one of the tags.
	MethodPurge = "PURGE"
	// MethodBan invalidates by host, host and path prefix, or everything.
	MethodBan = "BAN"
)

// maxXkeyHeaderBytes keeps one xkey header far below Varnish's default
// 8 KiB request-header limit (http_req_hdr_len).
const maxXkeyHeaderBytes = 2048

// call is one request to a node. A call with a non-empty invalid is never
// sent: it fails on every node with that reason.
type call struct {
	method string
	// host is the Host header; empty means the node's own.
	host string
	// target is the request path and query.
	target string
	header map[string]string
	// items is how many request items the call purges.
	items int
	// op names the call in errors, e.g. "PURGE https://a/x".
	op      string
	invalid string
}

// plan turns a request into the calls every node receives: one PURGE per
// distinct host and path (an http and an https URL are the same object in
// Varnish), xkey purges of as many tags as fit one header, one BAN per host
// and per prefix, and one BAN for everything.
func (p *Purger) plan(req purge.Request) []call {
	var calls []call
	seen := map[string]int{}
	for _, raw := range req.URLs {
		c := urlCall(raw)
		key := c.host + " " + c.target
		if i, ok := seen[key]; ok && c.invalid == "" {
			calls[i].items++
			continue
		}
		seen[key] = len(calls)
		calls = append(calls, c)
	}
	calls = append(calls, p.tagCalls(req.Tags)...)
	for _, h := range req.Hosts {
		calls = append(calls, hostCall(h))
	}
	for _, pre := range req.Prefixes {
		calls = append(calls, prefixCall(pre))
	}
	if req.Everything {
		calls = append(calls, call{method: MethodBan, target: "/", header: map[string]string{HeaderBanAll: "true"}, items: 1, op: "BAN everything"})
	}
	return calls
}

func urlCall(raw string) call {
	c := call{method: MethodPurge, items: 1, op: "PURGE " + raw}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		c.invalid = "not an absolute http(s) URL"
		return c
	}
	c.host = strings.ToLower(u.Host)
	c.target = u.EscapedPath()
	if c.target == "" {
		c.target = "/"
	}
	if u.RawQuery != "" {
		c.target += "?" + u.RawQuery
	}
	return c
}

// tagCalls batches tags into xkey headers; a tag xkey cannot carry (empty,
// or with a space or comma, which xkey splits on) fails on its own.
func (p *Purger) tagCalls(tags []string) []call {
	header := HeaderXkey
	if p.softPurge {
		header = HeaderXkeySoftPurge
	}
	var calls []call
	var batch []string
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		calls = append(calls, call{
			method: MethodPurge, target: "/", items: len(batch),
			header: map[string]string{header: strings.Join(batch, " ")},
			op:     fmt.Sprintf("%s %d tags", header, len(batch)),
		})
		batch, size = nil, 0
	}
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, " \t\r\n,") {
			calls = append(calls, call{method: MethodPurge, items: 1, op: fmt.Sprintf("%s %q", header, t), invalid: "a tag may not be empty or contain spaces or commas"})
			continue
		}
		if size+len(t)+1 > maxXkeyHeaderBytes {
			flush()
		}
		batch = append(batch, t)
		size += len(t) + 1
	}
	flush()
	return calls
}

func hostCall(h string) call {
	c := call{method: MethodBan, target: "/", items: 1, op: "BAN host " + h}
	h = strings.ToLower(h)
	if !banSafe(h) {
		c.invalid = "not a hostname"
		return c
	}
	c.header = map[string]string{HeaderBanHost: h}
	return c
}

// prefixCall bans a "host/path" prefix (Cloudflare's form: no scheme).
func prefixCall(pre string) call {
	c := call{method: MethodBan, target: "/", items: 1, op: "BAN prefix " + pre}
	host, path, _ := strings.Cut(pre, "/")
	host = strings.ToLower(host)
	path = "/" + path
	if !banSafe(host) || !banSafe(path) {
		c.invalid = "want host/path without spaces or quotes"
		return c
	}
	c.header = map[string]string{HeaderBanHost: host, HeaderBanPrefix: path}
	return c
}

// banSafe reports whether s can go into a ban expression as one argument.
func banSafe(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n\"'\\")
}
