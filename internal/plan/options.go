package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/edgepurge/edgepurge/internal/config"
)

// Options are the page options a registry entry may carry besides its
// hostnames and zone: the fields of a config page rule (config.PageRule,
// same names) that the pages API takes. A field left out keeps the default
// rule's (defaults), else the built-in one. edge_check is the config
// file's only: it makes edgepurge fetch an address, which an API caller
// should not choose.
type Options struct {
	Schemes   []string     `json:"schemes,omitzero"`
	Paths     *OptionPaths `json:"paths,omitzero"`
	Tags      []string     `json:"tags,omitzero"`
	Keys      []string     `json:"keys,omitzero"`
	KeySets   []string     `json:"key_sets,omitzero"`
	CDNOrder  []string     `json:"cdn_order,omitzero"`
	SoftPurge *bool        `json:"soft_purge,omitzero"`
	Cover     *OptionCover `json:"cover,omitzero"`
}

// OptionPaths are config.Paths: a group left out (null) keeps its paths,
// an empty list purges none of that group.
type OptionPaths struct {
	Common      []string `json:"common,omitzero"`
	Incident    []string `json:"incident,omitzero"`
	Component   []string `json:"component,omitzero"`
	Maintenance []string `json:"maintenance,omitzero"`
}

// OptionCover is config.Cover.
type OptionCover struct {
	Tags  []string `json:"tags,omitzero"`
	Hosts bool     `json:"hosts,omitzero"`
}

// IsZero reports whether o sets nothing.
func (o Options) IsZero() bool {
	return o.Schemes == nil && o.Paths == nil && o.Tags == nil && o.Keys == nil && o.KeySets == nil &&
		o.CDNOrder == nil && o.SoftPurge == nil && o.Cover == nil
}

// Encode is o as a registry entry stores it ("" when it sets nothing).
func (o Options) Encode() string {
	if o.IsZero() {
		return ""
	}
	b, _ := json.Marshal(o) // plain strings, slices and bools: cannot fail
	return string(b)
}

// DecodeOptions reads what Encode stored.
func DecodeOptions(s string) (Options, error) {
	var o Options
	if strings.TrimSpace(s) == "" {
		return o, nil
	}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return Options{}, fmt.Errorf("options: %w", err)
	}
	return o, nil
}

// over is base with o's fields in place of its own.
func (o Options) over(base config.PageRule) config.PageRule {
	r := base
	r.Hosts = nil // the entry's own
	if o.Schemes != nil {
		r.Schemes = o.Schemes
	}
	if o.Paths != nil {
		p := config.Paths{}
		if base.Paths != nil {
			p = *base.Paths
		}
		for _, g := range []struct {
			dst *[]string
			src []string
		}{{&p.Common, o.Paths.Common}, {&p.Incident, o.Paths.Incident}, {&p.Component, o.Paths.Component}, {&p.Maintenance, o.Paths.Maintenance}} {
			if g.src != nil {
				*g.dst = g.src
			}
		}
		r.Paths = &p
	}
	if o.Tags != nil {
		r.Tags = o.Tags
	}
	if o.Keys != nil {
		r.Keys = o.Keys
	}
	if o.KeySets != nil {
		r.KeySets = o.KeySets
	}
	if o.CDNOrder != nil {
		r.CDNOrder = o.CDNOrder
	}
	if o.SoftPurge != nil {
		r.SoftPurge = o.SoftPurge
	}
	if o.Cover != nil {
		r.Cover = &config.Cover{Tags: o.Cover.Tags, Hosts: o.Cover.Hosts}
	}
	return r
}

// OptionsRegistry is a Registry whose entries may carry Options (as
// Encode stores them).
type OptionsRegistry interface {
	Registry
	LookupOptions(ctx context.Context, pageID string) (hosts []string, zone, options string, found bool, err error)
}

// optionRules are the compiled rules of the registry entries' options, by
// their stored text: an entry's events compile its options once.
type optionRules struct {
	mu    sync.Mutex
	rules map[string]*rule
}

// maxOptionRules bounds the compiled rules kept; past it, they start over.
const maxOptionRules = 10_000

// optionRule is the rule of a registry entry with options (stored text).
func (p *Planner) optionRule(stored string) (*rule, error) {
	p.options.mu.Lock()
	r, ok := p.options.rules[stored]
	p.options.mu.Unlock()
	if ok {
		return r, nil
	}
	o, err := DecodeOptions(stored)
	if err != nil {
		return nil, err
	}
	if r, err = p.compileOptions(o); err != nil {
		return nil, err
	}
	p.options.mu.Lock()
	if p.options.rules == nil || len(p.options.rules) >= maxOptionRules {
		p.options.rules = map[string]*rule{}
	}
	p.options.rules[stored] = r
	p.options.mu.Unlock()
	return r, nil
}

// compileOptions compiles o over the default rule, checking what the
// config's validation checks of a page rule.
func (p *Planner) compileOptions(o Options) (*rule, error) {
	base := config.PageRule{}
	if p.rules.Defaults != nil {
		base = *p.rules.Defaults
	}
	for i, s := range o.Schemes {
		if s != "https" && s != "http" {
			return nil, fmt.Errorf("schemes[%d]: %q: must be http or https", i, s)
		}
	}
	for i, name := range o.CDNOrder {
		if !slices.Contains(config.DefaultCDNOrder, name) {
			return nil, fmt.Errorf("cdn_order[%d]: %q: must be %s", i, name, strings.Join(config.DefaultCDNOrder, ", "))
		}
		if slices.Contains(o.CDNOrder[:i], name) {
			return nil, fmt.Errorf("cdn_order[%d]: %q listed twice", i, name)
		}
	}
	if o.Cover != nil && o.Cover.Hosts && p.rules.NoHostPurges != "" {
		return nil, fmt.Errorf("cover.hosts: %s cannot purge by hostname; cover the page with a tag (cover.tags)", p.rules.NoHostPurges)
	}
	r, err := compileRule("options", o.over(base))
	if err != nil {
		return nil, err
	}
	for _, list := range []struct {
		field string
		ts    []Template
	}{{"keys", r.keys}, {"key_sets", r.keySets}} {
		for i, t := range list.ts {
			for _, res := range p.rules.Reserved {
				if strings.HasPrefix(t.raw, res) {
					return nil, fmt.Errorf("%s[%d]: %q is under %q, reserved for edgepurge's own state", list.field, i, t.raw, res)
				}
			}
		}
	}
	return r, nil
}

// CheckOptions checks o as planning will use it: the error names the
// option ("tags[0]: …"). Nil when o sets nothing.
func (p *Planner) CheckOptions(o Options) error {
	if o.IsZero() {
		return nil
	}
	_, err := p.compileOptions(o)
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "options."))
	}
	return nil
}
