// Package preflight is the deploy gate (edgepurge check): it validates a loaded
// config the way serve would use it and proves each dependency can do its
// work by doing it — Redis unlinks a key of edgepurge's own, and every
// Cloudflare zone, Fastly service, Akamai network and Varnish node purges a
// probe URL and tag no page serves (Akamai: invalidates them), through the same clients and wrappers serve uses —
// reporting one line per check, never a secret. Metadata reads (token
// verify, zone and service reads) are detail: a token that may purge but
// not read is what least privilege asks for, so such a read is reported
// skipped, never failing the gate by itself once the probe purge passed.
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

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/cloudflare"
	"github.com/edgepurge/edgepurge/purge/fastly"
)

// Check is one check.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Skipped says the check could not be made and does not count (a
	// metadata read the token has no permission for).
	Skipped bool `json:"skipped,omitempty"`
	// Warning marks a passed check whose detail needs a look (something
	// not set, a dry run): it does not fail the report.
	Warning bool   `json:"warning,omitempty"`
	Detail  string `json:"detail"`
}

// Report is every check; OK only when all passed.
type Report struct {
	OK bool `json:"ok"`
	// DryRun says the config purges nothing, however well it checks.
	DryRun bool    `json:"dry_run,omitempty"`
	Checks []Check `json:"checks"`
}

// DefaultTimeout bounds each check that does I/O.
const DefaultTimeout = 5 * time.Second

// samplePage is the page id the default rule is rendered with.
const samplePage = "edgepurge-check"

// ConfigFailed is the report of a config that could not even be loaded.
func ConfigFailed(err error, secrets ...string) Report {
	return Report{Checks: []Check{{Name: "config", Detail: redact(err.Error(), secrets)}}}
}

// Serve is what the checks take from serve's own wiring (internal/app),
// built by the caller from the same config, so that check proves what
// serve would run.
type Serve struct {
	// Rules are the planner's rules.
	Rules plan.Rules
	// Probe builds the backends as serve does and purges each CDN
	// target's probe once (see Probed); its error says the backends could
	// not be built.
	Probe func(ctx context.Context) ([]Probed, error)
}

// Probed is one CDN target's probe purge.
type Probed struct {
	// Check is the target's check name, e.g. "cloudflare zone Z".
	Check string
	// What the probe purged, and how long it took.
	What     string
	Duration time.Duration
	// Err is nil when the target purged.
	Err error
}

// Run runs every check of cfg through serve's wiring, each I/O check
// bounded by timeout (0: DefaultTimeout).
func Run(ctx context.Context, cfg *config.Config, serve Serve, timeout time.Duration) Report {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &runner{cfg: cfg, serve: serve, timeout: timeout, secrets: secretsOf(cfg)}
	r.add("config", nil, "loaded and valid")
	if cfg.DryRun {
		r.results = append(r.results, Check{Name: "mode", OK: true, Warning: true, Detail: "DRY RUN: plans and answers, purges nothing (dry_run, EDGEPURGE_DRY_RUN)"})
	}
	planner := r.templates()
	r.hosts(ctx, planner)
	zones := r.zones()
	r.secretsWellFormed()
	r.redis(ctx)
	proven := r.backends(ctx)
	r.cloudflare(ctx, zones, proven)
	r.fastly(ctx, proven)
	r.akamai()
	rep := Report{OK: true, DryRun: cfg.DryRun, Checks: r.results}
	for _, c := range rep.Checks {
		rep.OK = rep.OK && c.OK
	}
	return rep
}

type runner struct {
	cfg     *config.Config
	serve   Serve
	timeout time.Duration
	secrets []string
	results []Check
}

// add records a check: failed when err is not nil (its text is the detail).
func (r *runner) add(name string, err error, detail string) {
	res := Check{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		res.Detail = err.Error()
	}
	res.Detail = redact(res.Detail, r.secrets)
	r.results = append(r.results, res)
}

func (r *runner) templates() *plan.Planner {
	p, err := plan.New(r.serve.Rules, nil, slog.New(slog.DiscardHandler))
	n := len(r.cfg.Pages)
	detail := plural(n, "page", "pages") + " compiled"
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
	r.add("hosts", nil, fmt.Sprintf("%s to valid hostnames (%s for a page.updated)", plural(len(ids), "rule renders", "rules render"), plural(urls, "URL", "URLs")))
}

// zones returns the Cloudflare zones the config purges, sorted.
func (r *runner) zones() []string {
	cf := r.cfg.Cloudflare
	if !cf.Enabled() || r.cfg.DryRun {
		r.add("zones", nil, "no Cloudflare purging configured (dry run or no token): none needed")
		return nil
	}
	zones := r.cfg.CloudflareZones()
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
	var problems, notes, warnings []string
	if len(a.WebhookSecrets) > 0 {
		secrets := make([]string, len(a.WebhookSecrets))
		for i, s := range a.WebhookSecrets {
			secrets[i] = s.Value()
		}
		if _, err := webhook.NewVerifier(secrets, 0); err != nil {
			problems = append(problems, "auth.webhook_secrets: "+err.Error())
		} else {
			notes = append(notes, plural(len(secrets), "webhook secret", "webhook secrets"))
		}
	} else {
		warnings = append(warnings, "no webhook secrets (POST /v1/hooks/events answers 401)")
	}
	for _, t := range []struct {
		name string
		v    purge.Secret
	}{{"cloudflare.api_token", r.cfg.Cloudflare.APIToken}, {"auth.statuspage_token", a.StatuspageToken}, {"auth.api_token", a.APIToken}} {
		switch {
		case t.v == "" && t.name != "cloudflare.api_token": // the zones line says it
			warnings = append(warnings, t.name+" not set")
		case !printableToken(t.v.Value()):
			problems = append(problems, t.name+": contains whitespace, quotes or control characters")
		}
	}
	if len(problems) > 0 {
		r.add("secrets", fmt.Errorf("%s", strings.Join(problems, "; ")), "")
		return
	}
	r.add("secrets", nil, strings.Join(append(warnings, notes...), "; "))
	r.results[len(r.results)-1].Warning = len(warnings) > 0
}

// plural is "1 rule", "2 rules".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func printableToken(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == '"' || c == '\'' || c == 0x7f })
}

func (r *runner) redis(ctx context.Context) {
	rdb, err := cache.NewClient(r.cfg.Redis)
	if err != nil {
		r.add("redis", err, "")
		return
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	start := time.Now()
	if err := cache.Probe(ctx, rdb); err != nil {
		r.add("redis", fmt.Errorf("%s: %w", redisHost(r.cfg.Redis.URL), err), "")
		return
	}
	r.add("redis", nil, fmt.Sprintf("%s: PING and UNLINK %s answered in %s", redisHost(r.cfg.Redis.URL), cache.ProbeKey, time.Since(start).Round(10*time.Microsecond)))
}

// backends proves every CDN target by its probe purge (Serve.Probe),
// through the backends built from the config exactly as serve builds
// them. It returns each target's outcome by check name (true: it purged).
func (r *runner) backends(ctx context.Context) map[string]bool {
	proven := map[string]bool{}
	if r.cfg.DryRun {
		return proven
	}
	if r.cfg.Probe.Disabled {
		r.add("probes", nil, "probe.disabled: no target proven by a purge; the metadata reads below are the only evidence")
		return proven
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	probed, err := r.serve.Probe(ctx)
	if err != nil {
		r.add("backends", err, "")
		return proven
	}
	for _, res := range probed {
		proven[res.Check] = res.Err == nil
		r.add(res.Check, res.Err, fmt.Sprintf("purged %s in %s", res.What, res.Duration.Round(time.Millisecond)))
	}
	return proven
}

// metadata records a metadata read: failing only when nothing proved the
// backend by purging (probes off, or its probe failed too); a read the
// token has no permission for is skipped.
func (r *runner) metadata(name string, err error, ok string, proved bool) {
	if err == nil {
		r.add(name, nil, ok)
		return
	}
	if pe := purge.AsError(err); pe != nil && pe.Permission != "" {
		r.results = append(r.results, Check{Name: name, OK: true, Skipped: true,
			Detail: redact("skipped: the token lacks "+pe.Permission+", which purging does not need", r.secrets)})
		return
	}
	if proved {
		r.results = append(r.results, Check{Name: name, OK: true, Skipped: true,
			Detail: redact("skipped (the probe purge passed): "+err.Error(), r.secrets)})
		return
	}
	r.add(name, err, "")
}

// allProven reports whether every check of backend in proven purged; false
// when none was probed.
func allProven(proven map[string]bool, prefix string) bool {
	n := 0
	for name, ok := range proven {
		if strings.HasPrefix(name, prefix) {
			if !ok {
				return false
			}
			n++
		}
	}
	return n > 0
}

// cloudflare reads the token's status and every zone, as detail.
func (r *runner) cloudflare(ctx context.Context, zones []string, proven map[string]bool) {
	cf := r.cfg.Cloudflare
	if !cf.Enabled() || r.cfg.DryRun {
		return
	}
	p, err := cloudflare.New(cf)
	if err != nil {
		r.add("cloudflare token", err, "")
		return
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	err = p.CheckToken(tctx)
	cancel()
	kind := "user token, verified at /user/tokens/verify"
	if cf.AccountID != "" {
		kind = "account token, verified at /accounts/" + cf.AccountID + "/tokens/verify"
	}
	r.metadata("cloudflare token", err, "valid and active ("+kind+")", allProven(proven, "cloudflare zone "))
	for _, z := range zones {
		zctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := p.CheckZone(zctx, z)
		cancel()
		r.metadata("read cloudflare zone "+z, err, "readable with the token", proven["cloudflare zone "+z])
	}
}

// fastly reads the token's scope and every configured service, as detail.
func (r *runner) fastly(ctx context.Context, proven map[string]bool) {
	f := r.cfg.Fastly
	if !f.Enabled() || r.cfg.DryRun {
		return
	}
	p, err := fastly.New(f)
	if err != nil {
		r.add("fastly token", err, "")
		return
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	err = p.CheckToken(tctx)
	cancel()
	r.metadata("fastly token", err, "valid, with a purge scope", allProven(proven, "fastly service "))
	for _, s := range f.ServiceIDs() {
		sctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := p.CheckService(sctx, s)
		cancel()
		r.metadata("read fastly service "+s, err, "readable with the token", proven["fastly service "+s])
	}
}

// akamai notes that with probes off nothing proves Akamai's credentials:
// Fast Purge has no read-only call, so the probe purge (an invalidation,
// on the configured network, of a URL and a tag no page serves) is the
// only check of the EdgeGrid credentials and the CCU grant.
func (r *runner) akamai() {
	if !r.cfg.Akamai.Enabled() || r.cfg.DryRun || !r.cfg.Probe.Disabled {
		return
	}
	r.results = append(r.results, Check{Name: "akamai network " + r.cfg.Akamai.Network, OK: true, Warning: true,
		Detail: "not checked: Fast Purge has no read-only call, and probe.disabled turns off the probe purge that would prove the EdgeGrid credentials and the CCU grant"})
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
	out := []string{cfg.Cloudflare.APIToken.Value(), cfg.Fastly.APIToken.Value(), cfg.CloudFront.SecretAccessKey.Value(), cfg.Auth.StatuspageToken.Value(), cfg.Auth.APIToken.Value(),
		cfg.Akamai.ClientToken.Value(), cfg.Akamai.ClientSecret.Value(), cfg.Akamai.AccessToken.Value()}
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
			s = strings.ReplaceAll(s, sec, purge.Redacted)
		}
	}
	return s
}

// WriteText prints one line per check (✓ passed, ! passed with a warning,
// – skipped, ✗ failed), a detail's further lines aligned under its first,
// then the verdict.
func (rep Report) WriteText(w io.Writer) {
	for _, c := range rep.Checks {
		mark := "✓"
		switch {
		case !c.OK:
			mark = "✗"
		case c.Skipped:
			mark = "–"
		case c.Warning:
			mark = "!"
		}
		fmt.Fprintf(w, "%s %-28s %s\n", mark, c.Name, strings.ReplaceAll(c.Detail, "\n", "\n"+strings.Repeat(" ", 31)))
	}
	switch {
	case rep.OK && rep.DryRun:
		fmt.Fprintln(w, "all checks passed, but this is a DRY RUN: nothing will be purged")
	case rep.OK:
		fmt.Fprintln(w, "all checks passed")
	default:
		fmt.Fprintln(w, "CHECK FAILED: do not shift traffic to this build/config")
	}
}

// WriteJSON prints the report as JSON.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
