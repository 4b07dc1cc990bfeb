package plan

import (
	"fmt"

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
	// cdnOrder and verifyEdge pass the page's config on to its plans.
	cdnOrder   []string
	verifyEdge string
	// soft is the page's soft_purge; nil keeps the CDNs' own setting.
	soft *bool
}

var (
	hostVars = []string{VarPageID}
	pathVars = []string{VarPageID, VarIncidentID, VarComponentID, VarHost}
	itemVars = []string{VarPageID, VarIncidentID, VarComponentID}
)

// compileRule compiles every template of r, so that a bad template fails at
// start. name says which rule, for the error.
func compileRule(name string, r config.PageRule) (*rule, error) {
	out := &rule{zone: r.Zone, schemes: r.Schemes, cdnOrder: r.CDNOrder, soft: r.SoftPurge}
	if r.Verify != nil && r.Verify.Enabled {
		out.verifyEdge = r.Verify.Edge
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
	return out, nil
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
