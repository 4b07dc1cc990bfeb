package cloudfront

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// CloudFront's documented limits
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html):
// individual paths and wildcard paths in invalidations in progress per
// distribution, and paths in one invalidation batch.
const (
	MaxPathsInProgress     = 3000
	MaxWildcardsInProgress = 15
	MaxPathsPerBatch       = 3000
)

// Defaults of Config.
const (
	// DefaultCollapseAfter is how many distinct paths under one directory
	// (e.g. /incidents/) a distribution may be sent within CollapseWindow
	// before that directory is invalidated as one wildcard path
	// (/incidents/*) instead.
	DefaultCollapseAfter = 20
	// DefaultCollapseWindow is how long a sent path counts towards its
	// directory's CollapseAfter.
	DefaultCollapseWindow = 10 * time.Minute
	// DefaultPollInterval is the first wait before reading an
	// invalidation's status; it doubles up to DefaultMaxPollInterval.
	DefaultPollInterval    = time.Second
	DefaultMaxPollInterval = 15 * time.Second
	// DefaultMaxWait is how long the purger keeps polling an invalidation
	// after every purge waiting on it gave up (a re-drive polls it again).
	DefaultMaxWait = 30 * time.Minute
	// DefaultCallTimeout bounds one API call.
	DefaultCallTimeout = 30 * time.Second
	// DefaultCallsPerSecond and DefaultCallBurst are edgepurge's own budget
	// of API calls (creates and polls) per account: AWS throttles the
	// CloudFront API without publishing a rate for these calls, so this is
	// a guard, shared through Redis.
	DefaultCallsPerSecond = 5
	DefaultCallBurst      = 20
	// DefaultRefTTL is how long a purge's invalidations are remembered for
	// its re-drives (the journal's entries live for journal.max_age).
	DefaultRefTTL = 24 * time.Hour
)

// Config is the cloudfront section of the config file, and what New
// takes. CloudFront is on when it names a distribution.
type Config struct {
	// AccessKeyID and SecretAccessKey are an optional static key pair;
	// unset, the SDK's default chain is used (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared config files, web
	// identity, the container or instance role).
	AccessKeyID     string       `yaml:"access_key_id"`
	SecretAccessKey purge.Secret `yaml:"secret_access_key"`
	// DistributionID is the distribution of the pages whose zone Zones
	// does not name and whose hosts Distributions does not map
	// (CLOUDFRONT_DISTRIBUTION_ID).
	DistributionID string `yaml:"distribution_id"`
	// Distributions maps a hostname, or a wildcard "*.example.com", to the
	// distribution serving it: a URL of that host is invalidated there.
	Distributions map[string]string `yaml:"distributions"`
	// Zones maps a page's zone to its distribution.
	Zones map[string]string `yaml:"zones"`
	// BaseURL is the API's endpoint (CLOUDFRONT_BASE_URL, for a stand-in);
	// empty: the SDK's (https://cloudfront.amazonaws.com).
	BaseURL string `yaml:"base_url"`
	// CollapseAfter and CollapseWindow: see DefaultCollapseAfter.
	CollapseAfter  int           `yaml:"collapse_after"`
	CollapseWindow time.Duration `yaml:"collapse_window"`
	// PollInterval and MaxPollInterval pace the reads of an
	// invalidation's status.
	PollInterval    time.Duration `yaml:"poll_interval"`
	MaxPollInterval time.Duration `yaml:"max_poll_interval"`
	// MaxWait: see DefaultMaxWait.
	MaxWait time.Duration `yaml:"max_wait"`
	// RateLimit is edgepurge's own budget of API calls, shared through
	// Redis: calls_per_second and call_burst for CreateInvalidation,
	// urls_per_second and url_burst for the reads (GetInvalidation).
	RateLimit ratelimit.Config `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of CloudFront.
	Breaker breaker.Config `yaml:"breaker"`

	// MaxPathsPerBatch, MaxPathsInProgress and MaxWildcardsInProgress
	// default to CloudFront's limits (a test may set fewer).
	MaxPathsPerBatch       int `yaml:"-"`
	MaxPathsInProgress     int `yaml:"-"`
	MaxWildcardsInProgress int `yaml:"-"`
	// CallTimeout bounds one API call; default DefaultCallTimeout.
	CallTimeout time.Duration `yaml:"-"`
	// RefTTL: see DefaultRefTTL.
	RefTTL time.Duration `yaml:"-"`
	// RefsPrefix is the Redis prefix of the invalidation records
	// (RedisRefs); default DefaultRefsPrefix.
	RefsPrefix string `yaml:"-"`
	// HTTPClient, when set, makes the calls.
	HTTPClient *http.Client `yaml:"-" json:"-"`
	// Refs keeps which invalidations each purge made, for its re-drives;
	// nil: in memory (a re-drive on another instance then cannot find
	// them).
	Refs Refs `yaml:"-" json:"-"`
	// Budget, when set, is the shared budget every API call spends one
	// token of (ratelimit.Calls) and a throttled call pauses.
	Budget Budget `yaml:"-" json:"-"`
	// OnRetry, when set, is told each CreateInvalidation the purger sends
	// again, with the reason (purge/retry's: "429" for throttling and
	// TooManyInvalidationsInProgress).
	OnRetry func(reason string) `yaml:"-" json:"-"`
}

// Enabled reports whether CloudFront purging is configured: a
// distribution is named.
func (c Config) Enabled() bool {
	return c.DistributionID != "" || len(c.Distributions) > 0 || len(c.Zones) > 0
}

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() {
	c.CollapseAfter = cmp.Or(c.CollapseAfter, DefaultCollapseAfter)
	c.CollapseWindow = cmp.Or(c.CollapseWindow, DefaultCollapseWindow)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.MaxPollInterval = cmp.Or(c.MaxPollInterval, DefaultMaxPollInterval)
	c.MaxWait = cmp.Or(c.MaxWait, DefaultMaxWait)
	c.MaxPathsPerBatch = cmp.Or(c.MaxPathsPerBatch, MaxPathsPerBatch)
	c.MaxPathsInProgress = cmp.Or(c.MaxPathsInProgress, MaxPathsInProgress)
	c.MaxWildcardsInProgress = cmp.Or(c.MaxWildcardsInProgress, MaxWildcardsInProgress)
	c.CallTimeout = cmp.Or(c.CallTimeout, DefaultCallTimeout)
	c.RefTTL = cmp.Or(c.RefTTL, DefaultRefTTL)
	c.RefsPrefix = cmp.Or(c.RefsPrefix, DefaultRefsPrefix)
	rl := &c.RateLimit
	rl.CallsPerSecond = cmp.Or(rl.CallsPerSecond, DefaultCallsPerSecond)
	rl.CallBurst = cmp.Or(rl.CallBurst, DefaultCallBurst)
	rl.URLsPerSecond = cmp.Or(rl.URLsPerSecond, DefaultCallsPerSecond)
	rl.URLBurst = cmp.Or(rl.URLBurst, DefaultCallBurst)
	rl.Account = cmp.Or(rl.Account, ratelimit.DefaultAccount)
	c.Breaker.SetDefaults()
	// Hostnames are matched lower-case.
	if len(c.Distributions) > 0 {
		lower := make(map[string]string, len(c.Distributions))
		for h, d := range c.Distributions {
			lower[strings.ToLower(h)] = d
		}
		c.Distributions = lower
	}
}

// distributionRule is what a distribution id must be.
const distributionRule = "a distribution id is 1 to 64 letters or digits, e.g. E2QWRUHEXAMPLE"

// validDistribution reports whether id may be a distribution id.
func validDistribution(id string) bool {
	return purge.ValidZone(id) && !strings.ContainsAny(id, "-_")
}

// Validate reports every problem of the section's own knobs.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DistributionID != "" && !validDistribution(c.DistributionID) {
		add("cloudfront.distribution_id=%q: %s", c.DistributionID, distributionRule)
	}
	for host, d := range c.Distributions {
		if !validDistribution(d) {
			add("cloudfront.distributions[%q]=%q: %s", host, d, distributionRule)
		}
		if h := strings.TrimPrefix(host, "*."); h == "" || strings.ContainsAny(h, "*/:") {
			add("cloudfront.distributions[%q]: a key is a hostname or *.domain", host)
		}
	}
	for zone, d := range c.Zones {
		if !validDistribution(d) {
			add("cloudfront.zones[%q]=%q: %s", zone, d, distributionRule)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		add("cloudfront: set both access_key_id and secret_access_key (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or neither to use the AWS default credential chain")
	}
	if c.BaseURL != "" {
		if err := purge.CheckBaseURL(c.BaseURL); err != nil {
			add("cloudfront.base_url: %v", err)
		}
	}
	if c.CollapseAfter < 1 {
		add("cloudfront.collapse_after=%d: must be positive", c.CollapseAfter)
	}
	if c.PollInterval <= 0 || c.MaxPollInterval < c.PollInterval {
		add("cloudfront.poll_interval=%s, max_poll_interval=%s: want 0 < poll_interval <= max_poll_interval", c.PollInterval, c.MaxPollInterval)
	}
	if c.MaxPathsPerBatch > MaxPathsPerBatch || c.MaxPathsInProgress > MaxPathsInProgress || c.MaxWildcardsInProgress > MaxWildcardsInProgress {
		add("cloudfront: limits above CloudFront's (%d paths per batch, %d paths and %d wildcards in progress)", MaxPathsPerBatch, MaxPathsInProgress, MaxWildcardsInProgress)
	}
	if err := c.RateLimit.Validate("cloudfront"); err != nil {
		errs = append(errs, err)
	}
	return append(errs, c.Breaker.Validate("cloudfront")...)
}

// DistributionIDs are the configured distributions, sorted, once each.
func (c Config) DistributionIDs() []string {
	var out []string
	if c.DistributionID != "" {
		out = append(out, c.DistributionID)
	}
	for _, d := range c.Distributions {
		out = append(out, d)
	}
	for _, d := range c.Zones {
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Distribution is the distribution of a page's zone: Zones[zone], else
// DistributionID.
func (c Config) Distribution(zone string) string {
	if d, ok := c.Zones[zone]; ok {
		return d
	}
	return c.DistributionID
}

// HostDistribution is the distribution Distributions maps host to, by
// exact name first, then by the longest matching wildcard; "" when none.
func (c Config) HostDistribution(host string) string {
	host = strings.ToLower(host)
	if d, ok := c.Distributions[host]; ok {
		return d
	}
	best, bestLen := "", 0
	for k, d := range c.Distributions {
		if suffix, ok := strings.CutPrefix(k, "*"); ok && strings.HasSuffix(host, suffix) && len(suffix) > bestLen {
			best, bestLen = d, len(suffix)
		}
	}
	return best
}

// RateLimitPrefix is the Redis prefix of the account's shared budget.
func (c Config) RateLimitPrefix() string {
	return "edgepurge:ratelimit:cloudfront:" + cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount) + ":"
}

// Limits are the budget edgepurge spends: creates in the calls bucket,
// reads (polls) in the urls bucket.
func (c Config) Limits() ratelimit.Limits {
	return ratelimit.Limits{
		URLs:  ratelimit.FromPerSecond(c.RateLimit.URLsPerSecond, c.RateLimit.URLBurst),
		Calls: ratelimit.FromPerSecond(c.RateLimit.CallsPerSecond, c.RateLimit.CallBurst),
	}
}

// HostPurge says why CloudFront cannot purge host as a whole ("/*" on its
// distribution), nil when it can: Distributions must map it by name to a
// distribution no other configured host maps to, since an invalidation
// applies to every alternate domain of its distribution.
func (c Config) HostPurge(host string) error {
	host = strings.ToLower(host)
	d, ok := c.Distributions[host]
	if !ok {
		return fmt.Errorf("cloudfront cannot purge host %s: cloudfront.distributions does not map it by name to a distribution serving it alone", host)
	}
	for other, od := range c.Distributions {
		if od == d && other != host {
			return fmt.Errorf("cloudfront cannot purge host %s alone: its distribution %s also serves %s, and an invalidation applies to every host of a distribution; purge its URLs or a prefix", host, d, other)
		}
	}
	return nil
}
