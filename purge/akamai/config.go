package akamai

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/purge/breaker"
	"github.com/edgepurge/edgepurge/purge/ratelimit"
)

// Networks Fast Purge purges on.
const (
	NetworkProduction = "production"
	NetworkStaging    = "staging"
)

// Defaults of Config, from Fast Purge's documented limits
// (https://techdocs.akamai.com/purge-cache/reference/rate-limiting): a
// body of at most 50,000 bytes (50 KB; more is 413); per account, shared by
// every API client, 100 requests refilled at 50 a second, URL objects
// 10,000 refilled at 12,000 a minute (200/s), cache-tag objects 5,000
// refilled at 500 a minute. edgepurge spends DefaultHeadroom of the object
// budgets, as other tools of the account spend them too; the request
// budget is never the bottleneck at DefaultMaxObjectsPerCall objects a call.
const (
	// DefaultNetwork is where purges go unless network says otherwise.
	DefaultNetwork = NetworkProduction
	// DefaultSection is the .edgerc section read unless section says.
	DefaultSection = "default"
	// MaxBodyBytes is Fast Purge's limit on a request's body.
	MaxBodyBytes = 50000
	// DefaultMaxObjectsPerCall is the most URLs or tags one call carries,
	// fewer when they would not fit MaxBodyBytes.
	DefaultMaxObjectsPerCall = 500
	// DefaultMaxInflightCalls bounds the calls in flight per kind.
	DefaultMaxInflightCalls = 4
	// DefaultTimeout bounds one call of the default HTTP client.
	DefaultTimeout = 30 * time.Second
	// URLObjectsPerMinute and URLObjectBurst are Fast Purge's URL bucket.
	URLObjectsPerMinute = 12000
	URLObjectBurst      = 10000
	// TagObjectsPerMinute and TagObjectBurst are its cache-tag bucket.
	TagObjectsPerMinute = 500
	TagObjectBurst      = 5000
	// RequestsPerSecond and RequestBurst are its request bucket.
	RequestsPerSecond = 50
	RequestBurst      = 100
)

// Config is the akamai section of the config file, and what New takes:
// one Akamai API client (EdgeGrid credentials) purging one network.
// Credentials come from the section itself, the AKAMAI_* environment
// variables, or an .edgerc file's section, as Akamai's own tools read them;
// a field set here wins over the file.
type Config struct {
	// Host is the API client's hostname, akab-….luna.akamaiapis.net
	// (AKAMAI_HOST, or host in .edgerc).
	Host string `yaml:"host"`
	// ClientToken, ClientSecret and AccessToken are the client's EdgeGrid
	// credentials (AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET,
	// AKAMAI_ACCESS_TOKEN, or .edgerc). The client needs the CCU APIs
	// (Fast Purge) grant, READ-WRITE.
	ClientToken  purge.Secret `yaml:"client_token"`
	ClientSecret purge.Secret `yaml:"client_secret"`
	AccessToken  purge.Secret `yaml:"access_token"`
	// EdgeRC is an .edgerc file to read the credentials from
	// (AKAMAI_EDGERC); "~/" is the home directory. Setting it, or any
	// credential, turns Akamai on.
	EdgeRC string `yaml:"edgerc"`
	// Section is the .edgerc section (AKAMAI_EDGERC_SECTION); default
	// DefaultSection.
	Section string `yaml:"section"`
	// Network is production or staging (AKAMAI_NETWORK); default
	// production.
	Network string `yaml:"network"`
	// BaseURL is the API's base (AKAMAI_BASE_URL, for a stand-in); default
	// https://{host}. The signature always names Host, as Akamai checks it.
	BaseURL string `yaml:"base_url"`
	// SoftPurge invalidates (marks stale) instead of deleting; a page
	// rule's soft_purge overrides it.
	SoftPurge bool `yaml:"soft_purge"`
	// MaxObjectsPerCall is the most URLs or tags one call carries; default
	// DefaultMaxObjectsPerCall. Calls are split further to stay within
	// MaxBodyBytes.
	MaxObjectsPerCall int `yaml:"max_objects_per_call"`
	// MaxInflightCalls is how many calls may be in flight per kind, and in
	// one Purge; default DefaultMaxInflightCalls.
	MaxInflightCalls int `yaml:"max_inflight_calls"`
	// RateLimit is edgepurge's own budget for the account, shared through
	// Redis: urls_per_second and url_burst are URL objects,
	// calls_per_second and call_burst cache-tag objects (Fast Purge counts
	// tags one by one).
	RateLimit ratelimit.Config `yaml:"rate_limit"`
	// Breaker is the circuit breaker in front of Akamai.
	Breaker breaker.Config `yaml:"breaker"`

	// MaxBody is the most bytes of a body per call; default and maximum
	// MaxBodyBytes (a test may take fewer).
	MaxBody int `yaml:"-"`
	// HTTPClient, when set, makes the calls. The default has a
	// DefaultTimeout per call and does not follow redirects.
	HTTPClient *http.Client `yaml:"-" json:"-"`
	// Now, when set, is the clock signatures are timestamped with.
	Now func() time.Time `yaml:"-" json:"-"`

	// edgercErr is why the .edgerc could not be read, for Validate.
	edgercErr error
}

// Enabled reports whether Akamai purging is configured: an .edgerc or a
// credential is set.
func (c Config) Enabled() bool {
	return c.EdgeRC != "" || c.ClientToken != "" || c.ClientSecret != "" || c.AccessToken != "" || c.Host != ""
}

// Credentials are the EdgeGrid credentials as configured.
func (c Config) Credentials() Credentials {
	return Credentials{Host: c.Host, ClientToken: c.ClientToken.Value(), ClientSecret: c.ClientSecret.Value(), AccessToken: c.AccessToken.Value()}
}

// SetDefaults fills in the knobs left unset and the credentials the
// .edgerc section has and the config does not; a file that cannot be read
// is reported by Validate.
func (c *Config) SetDefaults() {
	c.Section = cmp.Or(c.Section, DefaultSection)
	c.Network = strings.ToLower(cmp.Or(c.Network, DefaultNetwork))
	if c.EdgeRC != "" {
		c.edgercErr = c.readEdgeRC()
	}
	// .edgerc files and exports often carry the host as a URL.
	c.Host = strings.TrimSuffix(strings.TrimPrefix(c.Host, "https://"), "/")
	if c.BaseURL == "" && c.Host != "" {
		c.BaseURL = "https://" + c.Host
	}
	c.MaxObjectsPerCall = cmp.Or(c.MaxObjectsPerCall, DefaultMaxObjectsPerCall)
	c.MaxInflightCalls = cmp.Or(c.MaxInflightCalls, DefaultMaxInflightCalls)
	c.MaxBody = cmp.Or(c.MaxBody, MaxBodyBytes)
	c.RateLimit.Account = cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount)
	c.Breaker.SetDefaults()
}

// readEdgeRC fills the credentials the config leaves empty from the
// .edgerc section.
func (c *Config) readEdgeRC() error {
	path := c.EdgeRC
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("akamai.edgerc %q: %w", path, err)
		}
		path = filepath.Join(home, rest)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("akamai.edgerc: read %s: %w (set AKAMAI_EDGERC or akamai.edgerc to your .edgerc, or the credentials themselves)", path, err)
	}
	sec, err := ParseEdgeRC(data, c.Section)
	if err != nil {
		return fmt.Errorf("akamai.edgerc %s: %w", path, err)
	}
	c.Host = cmp.Or(c.Host, sec.Host)
	c.ClientToken = cmp.Or(c.ClientToken, purge.Secret(sec.ClientToken))
	c.ClientSecret = cmp.Or(c.ClientSecret, purge.Secret(sec.ClientSecret))
	c.AccessToken = cmp.Or(c.AccessToken, purge.Secret(sec.AccessToken))
	return nil
}

// Validate reports every problem of the section's own knobs.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.edgercErr != nil {
		errs = append(errs, c.edgercErr)
	}
	var missing []string
	for _, f := range []struct{ name, env, value string }{
		{"host", "AKAMAI_HOST", c.Host}, {"client_token", "AKAMAI_CLIENT_TOKEN", c.ClientToken.Value()},
		{"client_secret", "AKAMAI_CLIENT_SECRET", c.ClientSecret.Value()}, {"access_token", "AKAMAI_ACCESS_TOKEN", c.AccessToken.Value()},
	} {
		if f.value == "" {
			missing = append(missing, fmt.Sprintf("akamai.%s (%s)", f.name, f.env))
		}
	}
	if len(missing) > 0 && c.edgercErr == nil {
		where := "set " + strings.Join(missing, ", ")
		if c.EdgeRC != "" {
			where += fmt.Sprintf(", or add them to section [%s] of %s", c.Section, c.EdgeRC)
		} else {
			where += ", or point AKAMAI_EDGERC (akamai.edgerc) at your .edgerc"
		}
		add("akamai: EdgeGrid credentials incomplete: %s", where)
	}
	if c.Host != "" && (strings.ContainsAny(c.Host, "/: \t") || strings.Contains(c.Host, "://")) {
		add("akamai.host=%q: want the API client's hostname alone, e.g. akab-xxxx.luna.akamaiapis.net", c.Host)
	}
	for _, s := range []string{c.ClientToken.Value(), c.ClientSecret.Value(), c.AccessToken.Value()} {
		if strings.ContainsAny(s, "\r\n\x00; \t") {
			add("akamai: a credential contains spaces, ';' or control characters")
			break
		}
	}
	if c.Network != NetworkProduction && c.Network != NetworkStaging {
		add("akamai.network=%q: must be production or staging", c.Network)
	}
	if c.BaseURL != "" {
		if err := purge.CheckBaseURL(c.BaseURL); err != nil {
			add("akamai.base_url: %v", err)
		}
	}
	if c.MaxObjectsPerCall < 1 {
		add("akamai.max_objects_per_call=%d: must be positive", c.MaxObjectsPerCall)
	}
	if c.MaxInflightCalls < 1 {
		add("akamai.max_inflight_calls=%d: must be positive", c.MaxInflightCalls)
	}
	if err := c.RateLimit.Validate("akamai"); err != nil {
		errs = append(errs, err)
	}
	return append(errs, c.Breaker.Validate("akamai")...)
}

// RateLimitPrefix is the Redis prefix of the account's shared budget.
func (c Config) RateLimitPrefix() string {
	return "edgepurge:ratelimit:akamai:" + cmp.Or(c.RateLimit.Account, ratelimit.DefaultAccount) + ":"
}

// Limits are the budget edgepurge spends: URL objects and cache-tag
// objects (counted one by one, ratelimit.Tags), each at DefaultHeadroom of
// Fast Purge's, unless rate_limit sets them; Calls is the request bucket,
// which edgepurge's calls never approach.
func (c Config) Limits() ratelimit.Limits {
	l := ratelimit.Limits{
		URLs:  ratelimit.Rate{Count: URLObjectsPerMinute, Period: time.Minute, Burst: URLObjectBurst},
		Calls: ratelimit.Rate{Count: RequestsPerSecond, Period: time.Second, Burst: RequestBurst},
		Tags:  ratelimit.Rate{Count: TagObjectsPerMinute, Period: time.Minute, Burst: TagObjectBurst},
	}.Scaled(ratelimit.DefaultHeadroom)
	rl := c.RateLimit
	l.URLs = perMinute(l.URLs, rl.URLsPerSecond, rl.URLBurst)
	l.Tags = perMinute(l.Tags, rl.CallsPerSecond, rl.CallBurst)
	return l
}

// perMinute is base with the rate (per second) and burst the config sets,
// counted per minute as Fast Purge counts them, so that 7.5 a second is
// exactly 450 a minute.
func perMinute(base ratelimit.Rate, perSecond float64, burst int) ratelimit.Rate {
	if perSecond > 0 {
		base.Count, base.Period = max(1, int(perSecond*60+0.5)), time.Minute
	}
	if burst > 0 {
		base.Burst = burst
	}
	return base
}

// errNoCredentials is New's error for a config without them.
var errNoCredentials = errors.New("akamai: EdgeGrid credentials incomplete: need host, client_token, client_secret and access_token")
