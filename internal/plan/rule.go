package plan

import (
	"fmt"
	"strings"

	"github.com/edgepurge/edgepurge/internal/event"

	"github.com/edgepurge/edgepurge/internal/config"
)

// rule is a compiled config.PageRule.
type rule struct {
	hosts   []Template
	zone    string
	schemes []string
	paths   [groupCount][]Template
	tags    []Template
	keys    []Template
	keySets []Template
	// cdnOrder and edgeCheck pass the page's config on to its plans.
	cdnOrder  []string
	edgeCheck string
	// soft is the page's soft_purge; nil keeps the CDNs' own setting.
	soft *bool
	// coverTags and coverHosts are the page's cover (config.Cover).
	coverTags  []Template
	coverHosts bool
}

// maxTagLength is the longest cache tag a CDN takes (Cloudflare's and
// Fastly's limit on one tag or surrogate key: 1,024 bytes).
const maxTagLength = 1024

// coverVars are what a cover tag may use: the page, nothing of an event.
var coverVars = []string{VarPageID}

var (
	hostVars = []string{VarPageID}
	pathVars = []string{VarPageID, VarIncidentID, VarComponentID, VarHost}
	itemVars = []string{VarPageID, VarIncidentID, VarComponentID}
)

// compileRule compiles every template of r, so that a bad template fails at
// start. name says which rule, for the error.
func compileRule(name string, r config.PageRule) (*rule, error) {
	out := &rule{zone: r.Zone, schemes: r.Schemes, cdnOrder: r.CDNOrder, soft: r.SoftPurge}
	if r.EdgeCheck != nil && r.EdgeCheck.Enabled {
		out.edgeCheck = r.EdgeCheck.Edge
	}
	if len(out.schemes) == 0 {
		out.schemes = []string{"https"}
	}
	for _, s := range out.schemes {
		if s != "https" && s != "http" {
			return nil, fmt.Errorf("%s: scheme %q: must be http or https", name, s)
		}
	}
	var err error
	if out.hosts, err = compileAll(name+".hosts", r.Hosts, hostVars); err != nil {
		return nil, err
	}
	groups := [groupCount][]string{}
	for g := range groupCount {
		groups[g] = builtinPaths[g]
	}
	if p := r.Paths; p != nil {
		override := [groupCount][]string{p.Common, p.Incident, p.Component, p.Maintenance}
		for g, list := range override {
			if list != nil {
				groups[g] = list
			}
		}
	}
	for g, list := range groups {
		if out.paths[g], err = compileAll(name+".paths", list, pathVars); err != nil {
			return nil, err
		}
		for _, t := range out.paths[g] {
			if t.raw[0] != '/' {
				return nil, fmt.Errorf("%s.paths: %q must start with /", name, t.raw)
			}
		}
	}
	if out.tags, err = compileAll(name+".tags", r.Tags, itemVars); err != nil {
		return nil, err
	}
	if out.keys, err = compileAll(name+".keys", r.Keys, itemVars); err != nil {
		return nil, err
	}
	if out.keySets, err = compileAll(name+".key_sets", r.KeySets, itemVars); err != nil {
		return nil, err
	}
	if c := r.Cover; c != nil {
		out.coverHosts = c.Hosts
		if out.coverTags, err = compileAll(name+".cover.tags", c.Tags, coverVars); err != nil {
			return nil, err
		}
		for _, t := range out.coverTags {
			sample, _ := t.Render(Vars{PageID: samplePageID})
			if err := checkTag(sample); err != nil {
				return nil, fmt.Errorf("%s.cover.tags: %q renders to %w", name, t.raw, err)
			}
		}
	}
	return out, nil
}

// samplePageID is a page id of the longest allowed length, to check what
// a template renders to.
var samplePageID = strings.Repeat("p", event.MaxIDLen)

// checkTag refuses a cache tag a CDN would refuse: empty, with a space or
// a comma (the header separators), or over maxTagLength.
func checkTag(tag string) error {
	switch {
	case tag == "":
		return fmt.Errorf("an empty tag")
	case strings.ContainsAny(tag, " ,\t\r\n"):
		return fmt.Errorf("a tag with a space or a comma: %q", tag)
	case len(tag) > maxTagLength:
		return fmt.Errorf("a tag of %d bytes, over the CDNs' limit of %d", len(tag), maxTagLength)
	}
	return nil
}

func compileAll(field string, list []string, allowed []string) ([]Template, error) {
	out := make([]Template, 0, len(list))
	for i, s := range list {
		t, err := Compile(s, allowed...)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, t)
	}
	return out, nil
}
