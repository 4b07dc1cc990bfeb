// Package preflight is the deploy gate (edgepurge check): it validates a loaded
// config the way serve would use it and proves each dependency can do its
// work — Redis answers, the Cloudflare token is valid and can read every
// configured zone, the Fastly token is valid and can read every configured
// service — reporting one line per check, never a secret.
package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/internal/app"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
)

// Result is one check.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is every check; OK only when all passed.
type Report struct {
	OK     bool     `json:"ok"`
	Checks []Result `json:"checks"`
}

// DefaultTimeout bounds each check that does I/O.
const DefaultTimeout = 5 * time.Second

// samplePage is the page id the default rule is rendered with.
const samplePage = "edgepurge-check"

// ConfigFailed is the report of a config that could not even be loaded.
func ConfigFailed(err error, secrets ...string) Report {
	return Report{Checks: []Result{{Name: "config", Detail: redact(err.Error(), secrets)}}}
}

// Run runs every check of cfg, each I/O check bounded by timeout (0:
// DefaultTimeout).
func Run(ctx context.Context, cfg *config.Config, timeout time.Duration) Report {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &runner{cfg: cfg, timeout: timeout, secrets: secretsOf(cfg)}
	r.add("config", nil, "loaded and valid")
	planner := r.templates()
	r.hosts(ctx, planner)
	zones := r.zones()
	r.secretsWellFormed()
	r.redis(ctx)
	r.cloudflare(ctx, zones)
	r.fastly(ctx)
	rep := Report{OK: true, Checks: r.results}
	for _, c := range rep.Checks {
		rep.OK = rep.OK && c.OK
	}
	return rep
}

type runner struct {
	cfg     *config.Config
	timeout time.Duration
	secrets []string
	results []Result
}

// add records a check: failed when err is not nil (its text is the detail).
func (r *runner) add(name string, err error, detail string) {
	res := Result{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		res.Detail = err.Error()
	}
	res.Detail = redact(res.Detail, r.secrets)
	r.results = append(r.results, res)
}

func (r *runner) templates() *plan.Planner {
	p, err := plan.New(r.cfg, nil, slog.New(slog.DiscardHandler))
	n := len(r.cfg.Pages)
	detail := fmt.Sprintf("%d pages compiled", n)
	if r.cfg.Defaults != nil {
		detail += ", and the default rule"
	}
	r.add("templates", err, detail)
	return p
}

// hosts renders a page.updated plan (every path group) of every page, and
// of the default rule with a sample page id: hosts must be hostnames and
// every template must render.
func (r *runner) hosts(ctx context.Context, p *plan.Planner) {
	if p == nil {
		r.add("hosts", fmt.Errorf("not checked: the templates do not compile"), "")
		return
	}
	ids := make([]string, 0, len(r.cfg.Pages)+1)
	for id := range r.cfg.Pages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if r.cfg.Defaults != nil {
		ids = append(ids, samplePage)
	}
	urls := 0
	for _, id := range ids {
		pl, err := p.Plan(ctx, event.Event{
			Type: event.PageUpdated, PageID: id, IncidentID: "check-incident", ComponentIDs: []string{"check-component"},
		})
		if err != nil {
			name := "page " + id
			if id == samplePage {
				name = "the default rule (page id " + samplePage + ")"
			}
			r.add("hosts", fmt.Errorf("%s: %w", name, err), "")
			return
		}
		urls += len(pl.URLs)
	}
	r.add("hosts", nil, fmt.Sprintf("%d rules render to valid hostnames (%d URLs for a page.updated)", len(ids), urls))
}

// zones returns the Cloudflare zones the config purges, sorted.
func (r *runner) zones() []string {
	cf := r.cfg.Cloudflare
	if !cf.Enabled() || r.cfg.DryRun {
		r.add("zones", nil, "no Cloudflare purging configured (dry run or no token): none needed")
		return nil
	}
	var zones []string
	addZone := func(z string) {
		if z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	addZone(cf.ZoneID)
	for _, p := range r.cfg.Pages {
		addZone(p.Zone)
	}
	if r.cfg.Defaults != nil {
		addZone(r.cfg.Defaults.Zone)
	}
	addZone(r.cfg.Canary.Zone)
	slices.Sort(zones)
	if len(zones) == 0 {
		r.add("zones", fmt.Errorf("no zone set: set cloudflare.zone_id (CLOUDFLARE_ZONE_ID) or a zone per page"), "")
		return nil
	}
	r.add("zones", nil, strings.Join(zones, ", "))
	return zones
}

// secretsWellFormed checks the webhook secrets decode and the tokens have
// no stray characters (a quote or newline pasted with them).
func (r *runner) secretsWellFormed() {
	a := r.cfg.Auth
	var problems, notes []string
	if len(a.WebhookSecrets) > 0 {
		secrets := make([]string, len(a.WebhookSecrets))
		for i, s := range a.WebhookSecrets {
			secrets[i] = s.Value()
		}
		if _, err := webhook.NewVerifier(secrets, 0); err != nil {
			problems = append(problems, "auth.webhook_secrets: "+err.Error())
		} else {
			notes = append(notes, fmt.Sprintf("%d webhook secrets", len(secrets)))
		}
	} else {
		notes = append(notes, "no webhook secrets (POST /v1/hooks/events answers 401)")
	}
	for _, t := range []struct {
		name string
		v    config.Secret
	}{{"cloudflare.api_token", r.cfg.Cloudflare.APIToken}, {"auth.statuspage_token", a.StatuspageToken}, {"auth.api_token", a.APIToken}} {
		switch {
		case t.v == "":
			notes = append(notes, t.name+" not set")
		case !printableToken(t.v.Value()):
			problems = append(problems, t.name+": contains whitespace, quotes or control characters")
		}
	}
	if len(problems) > 0 {
		r.add("secrets", fmt.Errorf("%s", strings.Join(problems, "; ")), "")
		return
	}
	r.add("secrets", nil, strings.Join(notes, "; "))
}

func printableToken(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == '"' || c == '\'' || c == 0x7f })
}

func (r *runner) redis(ctx context.Context) {
	rdb, err := app.NewRedis(r.cfg.Redis)
	if err != nil {
		r.add("redis", err, "")
		return
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	start := time.Now()
	if err := app.PingRedis(ctx, rdb); err != nil {
		r.add("redis", fmt.Errorf("PING %s: %w", redisHost(r.cfg.Redis.URL), err), "")
		return
	}
	r.add("redis", nil, fmt.Sprintf("PING %s answered in %s", redisHost(r.cfg.Redis.URL), time.Since(start).Round(10*time.Microsecond)))
}

func (r *runner) cloudflare(ctx context.Context, zones []string) {
	cf := r.cfg.Cloudflare
	if !cf.Enabled() || r.cfg.DryRun {
		return
	}
	p, err := cloudflare.New(cloudflare.Config{APIToken: cf.APIToken.Value(), BaseURL: cf.BaseURL})
	if err != nil {
		r.add("cloudflare_token", err, "")
		return
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	err = p.CheckToken(tctx)
	cancel()
	r.add("cloudflare_token", err, "valid and active")
	for _, z := range zones {
		zctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := p.CheckZone(zctx, z)
		cancel()
		r.add("zone "+z, err, "readable with the token")
	}
}

// fastly checks the Fastly token (its credential check) and that it can
// read every configured service.
func (r *runner) fastly(ctx context.Context) {
	f := r.cfg.Fastly
	if !f.Enabled() || r.cfg.DryRun {
		return
	}
	p, err := fastly.New(fastly.Config{APIToken: f.APIToken.Value(), BaseURL: f.BaseURL})
	if err != nil {
		r.add("fastly_token", err, "")
		return
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	err = p.CheckToken(tctx)
	cancel()
	r.add("fastly_token", err, "valid")
	for _, s := range fastlyServices(f) {
		sctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := p.CheckService(sctx, s)
		cancel()
		r.add("fastly_service "+s, err, "readable with the token")
	}
}

// fastlyServices are the configured Fastly services, sorted, once each.
func fastlyServices(f config.Fastly) []string {
	var out []string
	if f.ServiceID != "" {
		out = append(out, f.ServiceID)
	}
	for _, s := range f.Services {
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// redisHost is the URL's host, without user or password.
func redisHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(redis.url)"
	}
	return u.Host
}

// secretsOf lists every secret value of cfg, and the Redis URL's
// password, so that no detail can print one.
func secretsOf(cfg *config.Config) []string {
	out := []string{cfg.Cloudflare.APIToken.Value(), cfg.Fastly.APIToken.Value(), cfg.Auth.StatuspageToken.Value(), cfg.Auth.APIToken.Value()}
	for _, s := range cfg.Auth.WebhookSecrets {
		out = append(out, s.Value())
	}
	if u, err := url.Parse(cfg.Redis.URL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
	}
	return out
}

func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, config.Redacted)
		}
	}
	return s
}

// WriteText prints one line per check, ✓ or ✗, then the verdict.
func (rep Report) WriteText(w io.Writer) {
	for _, c := range rep.Checks {
		mark := "✓"
		if !c.OK {
			mark = "✗"
		}
		fmt.Fprintf(w, "%s %-18s %s\n", mark, c.Name, c.Detail)
	}
	if rep.OK {
		fmt.Fprintln(w, "all checks passed")
	} else {
		fmt.Fprintln(w, "CHECK FAILED: do not shift traffic to this build/config")
	}
}

// WriteJSON prints the report as JSON.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
