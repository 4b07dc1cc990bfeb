package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/internal/webhook"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

// StormConfig is the storm scenario (issue 10): Pages distinct pages, each
// posting one incident update, arriving evenly within Within, against the
// stand-in with Pro's two buckets — URLs 1,500/s (burst 1,500), tag/host/
// prefix calls 5/s (burst 25), 100 items a call — and 50 ms of latency.
// It runs twice, escalation to the pages' covers off and on, and measures
// how fast every page got fresh.
type StormConfig struct {
	ServerBin string
	// BeforeBin, when set, is another edgepurge binary each side also
	// runs with, just before ServerBin (A/B).
	BeforeBin string
	RedisURL  string
	// Pages is how many distinct pages post; default 10,000.
	Pages int
	// Within is the arrival window; default 60 s.
	Within time.Duration
	// Drain bounds the wait for the journal to re-drive what was answered
	// 202; default 5 min.
	Drain time.Duration
	// Progress receives one line per side; nil for none.
	Progress io.Writer
}

// The storm's stand-in: a Pro account.
var stormStandIn = cfstub.Options{
	URLRate: 1500, URLBurst: 1500, FlexRate: 5, FlexBurst: 25,
	MaxItemsPerCall: 100, Latency: 50 * time.Millisecond,
}

// Defaults of StormConfig.
const (
	DefaultStormPages  = 10_000
	DefaultStormWithin = 60 * time.Second
	DefaultStormDrain  = 5 * time.Minute
)

// stormSenders bounds the requests in flight at once.
const stormSenders = 4000

// StormReport is both sides of the storm and the physical bounds.
type StormReport struct {
	Pages    int           `json:"pages"`
	WithinS  float64       `json:"within_s"`
	URLs     int           `json:"urls"`
	Sides    []StormFigure `json:"sides"`
	BoundURL struct {
		// AtStandIn is total URLs ÷ the stand-in's URL rate; AtBudget the
		// same at the 90 % edgepurge uses.
		AtStandInS float64 `json:"at_stand_in_s"`
		AtBudgetS  float64 `json:"at_budget_s"`
	} `json:"bound_urls_only"`
	// BoundCoverS is the least time in which both buckets, bursts
	// included, at the rates edgepurge spends, can purge every page (see
	// burstBound), never less than the arrival window.
	BoundCoverS float64 `json:"bound_urls_and_covers_s"`
	// BoundCoverRatesS is the same without the bursts: pages ÷ what both
	// buckets purge per second.
	BoundCoverRatesS float64 `json:"bound_urls_and_covers_rates_only_s"`
	// Bound is BoundCoverS's terms.
	Bound   StormBound `json:"bound"`
	Machine Machine    `json:"machine"`
}

// StormFigure is one side of the storm.
type StormFigure struct {
	Escalation bool `json:"escalation"`
	// Binary is "before" or "after" in A/B mode (StormConfig.BeforeBin).
	Binary   string         `json:"binary,omitempty"`
	Sent     int            `json:"sent"`
	Statuses map[string]int `json:"statuses"`
	// ByCover is how many 2xx answers said purged_by cover.
	ByCover int `json:"by_cover"`
	// LastFreshS is from the first event to the moment the last page's
	// purge (its URLs, or its cover) was accepted.
	LastFreshS float64 `json:"last_fresh_s"`
	// Lag is arrival → the page's purge accepted (journal re-drives after
	// a 202 included), over every page answered 2xx, in seconds.
	LagP50S float64 `json:"lag_p50_s"`
	LagP99S float64 `json:"lag_p99_s"`
	LagMaxS float64 `json:"lag_max_s"`
	// Unpurged counts pages answered 2xx whose purge never came: lost.
	Unpurged int `json:"unpurged"`
	// Calls and 429s per bucket, at the stand-in.
	URLCalls  int `json:"url_calls"`
	URL429    int `json:"url_429s"`
	FlexCalls int `json:"tag_host_calls"`
	Flex429   int `json:"tag_host_429s"`
	// ElapsedS is the side's whole run, drain included.
	ElapsedS float64 `json:"elapsed_s"`
}

// stormAnswer is what one page's event got.
type stormAnswer struct {
	arrival time.Time
	code    int
	urls    []string
	cover   []string
	byCover bool
}

// RunStorm runs the storm with escalation off, then on.
func RunStorm(ctx context.Context, cfg StormConfig) (*StormReport, error) {
	if cfg.Pages <= 0 {
		cfg.Pages = DefaultStormPages
	}
	if cfg.Within <= 0 {
		cfg.Within = DefaultStormWithin
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultStormDrain
	}
	if cfg.RedisURL == "" {
		cfg.RedisURL = DefaultRedisURL
	}
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	r := &StormReport{Pages: cfg.Pages, WithinS: cfg.Within.Seconds(), Machine: thisMachine()}
	type arm struct{ name, bin string }
	arms := []arm{{"", cfg.ServerBin}}
	if cfg.BeforeBin != "" {
		arms = []arm{{"before", cfg.BeforeBin}, {"after", cfg.ServerBin}}
	}
	for _, esc := range []bool{false, true} {
		for _, a := range arms {
			f, urls, err := runStormSide(ctx, cfg, a.bin, rdb, esc)
			if err != nil {
				return r, fmt.Errorf("storm (escalation %v %s): %w", esc, a.name, err)
			}
			f.Binary = a.name
			r.URLs = urls
			r.Sides = append(r.Sides, f)
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "storm escalation=%-5v %s: last page fresh after %.1fs, lag p50 %.1fs p99 %.1fs max %.1fs, %d by cover, statuses %v, 429s %d+%d [%.0fs]\n",
					esc, a.name, f.LastFreshS, f.LagP50S, f.LagP99S, f.LagMaxS, f.ByCover, f.Statuses, f.URL429, f.Flex429, f.ElapsedS)
			}
		}
	}
	r.BoundURL.AtStandInS = float64(r.URLs) / stormStandIn.URLRate
	r.BoundURL.AtBudgetS = float64(r.URLs) / (stormStandIn.URLRate * ratelimit.DefaultHeadroom)
	r.Bound = burstBound(cfg.Pages, r.URLs, cfg.Within, stormBudget(), stormStandIn.MaxItemsPerCall)
	r.BoundCoverS = r.Bound.S
	r.BoundCoverRatesS = math.Max(cfg.Within.Seconds(), float64(cfg.Pages)/r.Bound.PagesPerS)
	return r, nil
}

// stormBudget is what edgepurge spends of the storm's stand-in: its two
// buckets, as the server is configured (the URL bucket matched to the
// stand-in's, the Pro preset's calls), with the default headroom — Pro's
// 1,500 URLs/s burst 1,500 and 5 calls/s burst 25 become 1,350/1,350 and
// 4/22.
func stormBudget() ratelimit.Limits {
	return ratelimit.Limits{
		URLs:  ratelimit.FromPerSecond(stormStandIn.URLRate, stormStandIn.URLBurst),
		Calls: ratelimit.FromPerSecond(stormStandIn.FlexRate, stormStandIn.FlexBurst),
	}.Scaled(ratelimit.DefaultHeadroom)
}

// StormBound is the storm's physical bound with both buckets' bursts
// counted. In T seconds the URL bucket purges (Bu + Ru×T) URLs, u a page,
// and the tag bucket (Bc + Rc×T) calls, k covers a call, so every page is
// purged once
//
//	(Bu + Ru×T)/u + (Bc + Rc×T)×k ≥ pages
//	T = (pages − Bu/u − Bc×k) ÷ (Ru/u + Rc×k)
//
// and never before the last page arrives: S = max(window, T).
type StormBound struct {
	Pages       int     `json:"pages"`
	URLsPerPage float64 `json:"urls_per_page"`
	// URLRate, URLBurst, CallRate and CallBurst are the buckets as
	// edgepurge spends them (the headroom applied).
	URLRate   float64 `json:"url_rate"`
	URLBurst  int     `json:"url_burst"`
	CallRate  float64 `json:"call_rate"`
	CallBurst int     `json:"call_burst"`
	PerCall   int     `json:"covers_per_call"`
	WindowS   float64 `json:"window_s"`
	// BurstPages is what both bursts purge at once, PagesPerS what both
	// rates purge a second after.
	BurstPages float64 `json:"burst_pages"`
	PagesPerS  float64 `json:"pages_per_s"`
	S          float64 `json:"s"`
}

// burstBound is the storm's bound (StormBound) for pages pages of urls
// URLs in all, arriving within window, at the budget l, perCall covers a
// tag call.
func burstBound(pages, urls int, window time.Duration, l ratelimit.Limits, perCall int) StormBound {
	b := StormBound{
		Pages: pages, URLsPerPage: float64(urls) / float64(max(pages, 1)),
		URLRate: l.URLs.PerSecond(), URLBurst: l.URLs.Burst, CallRate: l.Calls.PerSecond(), CallBurst: l.Calls.Burst,
		PerCall: perCall, WindowS: window.Seconds(),
	}
	urlPages := func(n float64) float64 { // URLs → pages
		if b.URLsPerPage == 0 {
			return 0
		}
		return n / b.URLsPerPage
	}
	b.BurstPages = urlPages(float64(b.URLBurst)) + float64(b.CallBurst*perCall)
	b.PagesPerS = urlPages(b.URLRate) + b.CallRate*float64(perCall)
	b.S = b.WindowS
	if b.PagesPerS > 0 {
		b.S = math.Max(b.S, (float64(pages)-b.BurstPages)/b.PagesPerS)
	}
	return b
}

// Formula is the bound written out with its figures.
func (b StormBound) Formula() string {
	return fmt.Sprintf("max(window %.0fs, (pages − Bu/u − Bc×k) ÷ (Ru/u + Rc×k)) = max(%.0f, (%d − %d/%.1f − %d×%d) ÷ (%.0f/%.1f + %.0f×%d)) = max(%.0f, %.0f ÷ %.1f/s) = %.1fs",
		b.WindowS, b.WindowS, b.Pages, b.URLBurst, b.URLsPerPage, b.CallBurst, b.PerCall, b.URLRate, b.URLsPerPage, b.CallRate, b.PerCall,
		b.WindowS, float64(b.Pages)-b.BurstPages, b.PagesPerS, b.S)
}

func runStormSide(ctx context.Context, cfg StormConfig, bin string, rdb *redis.Client, escalation bool) (StormFigure, int, error) {
	dir, err := os.MkdirTemp("", "edgepurge-storm-")
	if err != nil {
		return StormFigure{}, 0, err
	}
	defer os.RemoveAll(dir)
	id, creds, err := newIdentity()
	if err != nil {
		return StormFigure{}, 0, err
	}
	opts := stormStandIn
	opts.Tokens, opts.Zones = []string{creds.cfToken}, []string{benchZone}
	stub := cfstub.New(opts)
	defer stub.Close()
	stubURL, err := stub.Start()
	if err != nil {
		return StormFigure{}, 0, err
	}
	addr, err := freeAddr()
	if err != nil {
		return StormFigure{}, 0, err
	}
	spec := serverSpec{
		bin: bin, addr: addr, stubURL: stubURL, redisURL: cfg.RedisURL, id: id, creds: creds,
		stub:         StubSpec{Latency: opts.Latency, URLRate: opts.URLRate, URLBurst: opts.URLBurst},
		purgeTimeout: DefaultPurgeTimeout, logLevel: "warn", dir: dir,
		extraYAML: fmt.Sprintf("  escalation:\n    disabled: %v\n", !escalation),
		extraEnv:  []string{"EDGEPURGE_COVER_TAGS=page:{page_id}"},
	}
	proc, err := spec.start()
	if err != nil {
		return StormFigure{}, 0, err
	}
	defer func() {
		_ = proc.stop(shutdownTimeout + 10*time.Second)
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = deleteKeys(cctx, rdb, id)
	}()
	if err := proc.waitReady(ctx, readyTimeout); err != nil {
		return StormFigure{}, 0, err
	}

	start := time.Now()
	answers := sendStorm(ctx, addr, creds.webhook, cfg.Pages, cfg.Within)
	// The journal re-drives what was answered 202; wait for it to empty.
	for end := time.Now().Add(cfg.Drain); time.Now().Before(end) && ctx.Err() == nil; {
		if n, err := rdb.XLen(ctx, id+":journal").Result(); err == nil && n == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	f := stormFigures(answers, stub.PurgeCalls(), opts.Latency, start)
	f.Escalation, f.ElapsedS = escalation, time.Since(start).Seconds()
	urls := 0
	for _, a := range answers {
		urls += len(a.urls)
	}
	return f, urls, nil
}

// sendStorm posts page i's event at start + i×within/pages, with at most
// stormSenders in flight, and returns every page's answer.
func sendStorm(ctx context.Context, addr, secret string, pages int, within time.Duration) []stormAnswer {
	client := &fasthttp.HostClient{
		Addr: addr, Name: "edgepurge-bench", MaxConns: stormSenders,
		ReadTimeout: DefaultPurgeTimeout + 30*time.Second, WriteTimeout: 10 * time.Second, MaxConnWaitTimeout: time.Minute,
		RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
	}
	defer client.CloseIdleConnections()
	out := make([]stormAnswer, pages)
	sem := make(chan struct{}, stormSenders)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range pages {
		at := start.Add(time.Duration(int64(within) * int64(i) / int64(pages)))
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				wg.Wait()
				return out[:i]
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = sendStormEvent(client, secret, i)
		})
	}
	wg.Wait()
	return out
}

func sendStormEvent(client *fasthttp.HostClient, secret string, i int) stormAnswer {
	now := time.Now()
	page := "storm-p" + strconv.Itoa(i)
	body := appendHook(nil, page, "storm-inc", now.UTC().Format(time.RFC3339Nano))
	id := "msg_storm_" + strconv.Itoa(i) + "_" + strconv.FormatInt(now.UnixNano(), 36)
	a := stormAnswer{arrival: now}
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		return a
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + client.Addr + hookPath)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	req.SetBody(body)
	if err := client.Do(req, resp); err != nil {
		return a
	}
	a.code = resp.StatusCode()
	var ans chain.Answer
	if json.Unmarshal(resp.Body(), &ans) == nil {
		a.urls = ans.Plan.URLs
		if ans.Plan.Cover != nil {
			a.cover = ans.Plan.Cover.Tags
		}
		for _, r := range ans.Results {
			a.byCover = a.byCover || r.PurgedBy == "cover"
		}
	}
	return a
}

// stormFigures works out, from the stand-in's calls, when each page
// answered 2xx got fresh: the first accepted call after its arrival for
// each of its URLs (the last of them), or for its cover tag, whichever
// came first.
func stormFigures(answers []stormAnswer, calls []cfstub.Call, latency time.Duration, start time.Time) StormFigure {
	f := StormFigure{Statuses: map[string]int{}}
	accepted := map[string][]time.Time{} // item → when calls carrying it were accepted
	for _, c := range calls {
		switch c.Kind {
		case cfstub.KindFiles:
			f.URLCalls++
			if c.Status == 429 {
				f.URL429++
			}
		default:
			f.FlexCalls++
			if c.Status == 429 {
				f.Flex429++
			}
		}
		if c.Status != 200 {
			continue
		}
		for _, it := range c.Items {
			accepted[it] = append(accepted[it], c.At.Add(latency))
		}
	}
	firstAfter := func(item string, t time.Time) (time.Time, bool) {
		for _, at := range accepted[item] {
			if !at.Before(t) {
				return at, true
			}
		}
		return time.Time{}, false
	}
	var lags []float64
	var last time.Time
	for _, a := range answers {
		f.Sent++
		key := strconv.Itoa(a.code)
		if a.code == 0 {
			key = "error"
		}
		f.Statuses[key]++
		if a.code < 200 || a.code > 299 {
			continue
		}
		if a.byCover {
			f.ByCover++
		}
		fresh, ok := time.Time{}, len(a.urls) > 0
		for _, u := range a.urls {
			at, found := firstAfter(u, a.arrival)
			if !found {
				ok = false
				break
			}
			if at.After(fresh) {
				fresh = at
			}
		}
		for _, tag := range a.cover {
			if at, found := firstAfter(tag, a.arrival); found && (!ok || at.Before(fresh)) {
				fresh, ok = at, true
			}
		}
		if !ok {
			f.Unpurged++
			continue
		}
		lags = append(lags, fresh.Sub(a.arrival).Seconds())
		if fresh.After(last) {
			last = fresh
		}
	}
	slices.Sort(lags)
	if n := len(lags); n > 0 {
		f.LagP50S, f.LagP99S, f.LagMaxS = lags[n/2], lags[min(n-1, n*99/100)], lags[n-1]
	}
	if !last.IsZero() {
		f.LastFreshS = last.Sub(start).Seconds()
	}
	return f
}

// WriteTable prints the storm report.
func (r *StormReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "edgepurge storm: %d pages, one incident update each, arriving within %.0fs; stand-in Pro (URLs 1,500/s burst 1,500; tag/host calls 5/s burst 25, 100 a call; 50 ms); %d CPUs (%s), %s\n\n",
		r.Pages, r.WithinS, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "escalation\tlast fresh s\tlag p50 s\tlag p99 s\tlag max s\tby cover\t200\t202\tother\tunpurged\tURL calls\tURL 429s\ttag calls\ttag 429s\telapsed s\t")
	for _, s := range r.Sides {
		other := s.Sent - s.Statuses["200"] - s.Statuses["202"]
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t\n",
			s.label(), s.LastFreshS, s.LagP50S, s.LagP99S, s.LagMaxS, s.ByCover, s.Statuses["200"], s.Statuses["202"], other,
			s.Unpurged, s.URLCalls, s.URL429, s.FlexCalls, s.Flex429, s.ElapsedS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nphysical bounds: URLs only %d URLs ÷ 1,500/s = %.0fs (÷ the 1,350/s edgepurge uses: %.0fs)\n",
		r.URLs, r.BoundURL.AtStandInS, r.BoundURL.AtBudgetS)
	fmt.Fprintf(w, "URLs + covers, bursts counted (Bu, Bc bursts, Ru, Rc rates as edgepurge spends them; u URLs a page, k covers a call):\n  %s\n",
		r.Bound.Formula())
	fmt.Fprintf(w, "  (rates only, no bursts: %.1fs); last page fresh ÷ bound:", r.BoundCoverRatesS)
	for _, s := range r.Sides {
		fmt.Fprintf(w, " escalation %s %.2f×", s.label(), s.LastFreshS/r.BoundCoverS)
	}
	fmt.Fprintln(w)
	return nil
}

// label names the side in the table: its escalation and, in A/B mode,
// its binary.
func (s StormFigure) label() string {
	return strings.TrimSpace(fmt.Sprintf("%v %s", s.Escalation, s.Binary))
}

// WriteJSON prints the storm report as JSON.
func (r *StormReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
