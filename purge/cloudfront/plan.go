package cloudfront

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// item is one of a request's items as invalidation paths: a URL's path, a
// prefix's wildcard path, "/*".
type item struct {
	dist string
	path string
}

// plan turns a request into its items' paths, one per item, in order:
// URLs, prefixes, hosts, then everything. It refuses the whole request,
// with a permanent *purge.Error and nothing sent, when it has tags
// (CloudFront has none), a host it cannot purge alone, or a URL or prefix
// it cannot place on a distribution.
func (p *Purger) plan(req purge.Request) ([]item, *purge.Error) {
	op := "purge cloudfront distribution " + req.Zone
	var problems []string
	if len(req.Tags) > 0 {
		problems = append(problems, "CloudFront has no cache tags, it cannot purge by tag: tags "+list(req.Tags))
	}
	items := make([]item, 0, req.Items())
	var bad, unplaced []string
	for _, raw := range req.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			bad = append(bad, raw)
			continue
		}
		d := p.distOf(u.Hostname(), req.Zone)
		if d == "" {
			unplaced = append(unplaced, raw)
			continue
		}
		items = append(items, item{dist: d, path: urlPath(u)})
	}
	for _, pre := range req.Prefixes {
		host, path, _ := strings.Cut(pre, "/")
		d := p.distOf(host, req.Zone)
		switch {
		case host == "" || strings.Contains(path, "*"):
			bad = append(bad, pre)
		case d == "":
			unplaced = append(unplaced, pre)
		default:
			items = append(items, item{dist: d, path: "/" + path + "*"})
		}
	}
	for _, h := range req.Hosts {
		if err := p.cfg.HostPurge(h); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		items = append(items, item{dist: p.cfg.Distributions[strings.ToLower(h)], path: "/*"})
	}
	if req.Everything {
		if req.Zone == "" {
			problems = append(problems, "everything: the request names no distribution")
		} else {
			items = append(items, item{dist: req.Zone, path: "/*"})
		}
	}
	if len(bad) > 0 {
		problems = append(problems, "not absolute http(s) URLs or host/path prefixes without '*': "+list(bad))
	}
	if len(unplaced) > 0 {
		problems = append(problems, "no distribution for "+list(unplaced)+" (map their hosts in cloudfront.distributions, or set cloudfront.distribution_id)")
	}
	if len(problems) > 0 {
		return nil, &purge.Error{Op: op, Message: strings.Join(problems, "; ") + "; nothing was purged"}
	}
	return items, nil
}

// distOf is the distribution of host: the one Distributions maps it to,
// else the request's.
func (p *Purger) distOf(host, zone string) string {
	if d := p.cfg.HostDistribution(host); d != "" {
		return d
	}
	return zone
}

// urlPath is the invalidation path of a URL: its path, escaped as sent,
// with the query (CloudFront invalidates a path with a query string only
// when that query is in the path; without, every query string of a
// cache key that ignores them). A '*' in a URL's path is escaped: it is
// a character there, not a wildcard.
func urlPath(u *url.URL) string {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	path = strings.ReplaceAll(path, "*", "%2A")
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return path
}

// list names at most ten items, then how many more there are.
func list(items []string) string {
	const most = 10
	if len(items) <= most {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:most], ", "), len(items)-most)
}

// wildcard reports whether an invalidation path ends in the wildcard.
func wildcard(path string) bool { return strings.HasSuffix(path, "*") }

// covers reports whether invalidating paths invalidates path.
func covers(paths []string, path string) bool {
	for _, p := range paths {
		if p == path || wildcard(p) && strings.HasPrefix(path, p[:len(p)-1]) {
			return true
		}
	}
	return false
}
