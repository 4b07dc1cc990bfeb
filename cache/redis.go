package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Config.
const (
	DefaultURL         = "redis://127.0.0.1:6379/0"
	DefaultMode        = "single"
	DefaultPingTimeout = 500 * time.Millisecond
)

// Config is the redis section of the config file: one URL, read as a
// single node, a Cluster or a Sentinel-managed master depending on Mode.
type Config struct {
	// URL is redis:// or rediss://. For a cluster, extra nodes go in
	// ?addr=host:port parameters; for sentinel, the sentinels' addresses and
	// ?master_name=.
	URL string `yaml:"url"`
	// Mode is single (default), cluster or sentinel.
	Mode string `yaml:"mode"`
	// PingTimeout bounds the readiness PING.
	PingTimeout time.Duration `yaml:"ping_timeout"`
	// URLFromEnv (REDIS_URL gave URL) and File (the config file) are set by
	// the loader so that an error names the source to change.
	URLFromEnv bool   `yaml:"-" json:"-"`
	File       string `yaml:"-" json:"-"`
}

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() {
	c.URL = cmp.Or(c.URL, DefaultURL)
	c.Mode = cmp.Or(c.Mode, DefaultMode)
	c.PingTimeout = cmp.Or(c.PingTimeout, DefaultPingTimeout)
}

// Validate checks the mode and the URL's form, never quoting the URL: it
// may hold a password.
func (c Config) Validate() error {
	switch c.Mode {
	case "single", "cluster", "sentinel":
	default:
		return fmt.Errorf("redis.mode=%q: must be single, cluster or sentinel", c.Mode)
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Scheme != "redis" && u.Scheme != "rediss" && (u.Scheme != "unix" || c.Mode != "single"):
		return errors.New("redis url (REDIS_URL or redis.url): the redis:// or rediss:// scheme is missing, e.g. redis://localhost:6379/0 (value not shown: it may hold a password)")
	case c.Mode == "sentinel" && u.Query().Get("master_name") == "":
		file := cmp.Or(c.File, "the config file")
		if c.URLFromEnv {
			return fmt.Errorf("redis.mode is sentinel but REDIS_URL names no master: REDIS_URL is set and overrides redis.url: add ?master_name=NAME to REDIS_URL, or set redis.mode: single in %s", file)
		}
		return fmt.Errorf("redis.mode is sentinel but redis.url names no master: add ?master_name=NAME to redis.url, or set redis.mode: single, in %s", file)
	}
	return nil
}

// dialTimeout is short: a Redis that does not answer at once should fail
// the request's Redis part (and readiness) quickly, not eat its deadline.
const dialTimeout = time.Second

// clusterReloadInterval bounds how long a Cluster client keeps sending a
// slot to a primary that is gone. go-redis reloads its slot map on MOVED and
// ASK answers, never on a refused connection, and otherwise only every
// ClusterStateReloadInterval (60 s by default): after a failover, the keys
// of the dead primary's slots (a third of them on a 3-primary cluster)
// would fail for up to a minute though a replica had taken over in seconds.
const clusterReloadInterval = time.Second

// NewClient returns a client for a single node, a Cluster or a
// Sentinel-managed master, as the config's mode says.
func NewClient(c Config) (redis.UniversalClient, error) {
	switch c.Mode {
	case "cluster":
		o, err := redis.ParseClusterURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url (cluster): %w", redactURLError(err))
		}
		o.MaxRetries, o.DialTimeout = 1, dialTimeout
		o.ClusterStateReloadInterval = clusterReloadInterval
		return redis.NewClusterClient(o), nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url (sentinel): %w", redactURLError(err))
		}
		o.MaxRetries, o.DialTimeout = 1, dialTimeout
		return redis.NewFailoverClient(o), nil
	default:
		o, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", redactURLError(err))
		}
		o.MaxRetries, o.DialTimeout, o.DialerRetries = 1, dialTimeout, 1
		return redis.NewClient(o), nil
	}
}

// Ping is the readiness check of Redis: PING answered. On a Cluster,
// every primary must answer (the slot map is reloaded first, so a replica
// promoted in place of a dead primary counts once it serves): a primary gone
// leaves its slots unusable, while a PING of one random node, what the
// Cluster client sends, would still pass.
func Ping(ctx context.Context, c redis.UniversalClient) error {
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return c.Ping(ctx).Err()
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		if err := node.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("cluster primary %s: %w", node.Options().Addr, err)
		}
		return nil
	})
}

// ProbeKey is the Redis key Probe unlinks: edgepurge's own, so that no
// page's data is touched.
const ProbeKey = "edgepurge:probe"

// Probe proves Redis can do a purge's work: every primary answers PING,
// and the probe key can be unlinked (a read-only replica left behind by a
// failover cannot).
func Probe(ctx context.Context, c redis.UniversalClient) error {
	if err := Ping(ctx, c); err != nil {
		return fmt.Errorf("PING: %w", err)
	}
	if err := c.Unlink(ctx, ProbeKey).Err(); err != nil {
		return fmt.Errorf("UNLINK %s: %w", ProbeKey, err)
	}
	return nil
}

// redactURLError drops the error's text when it could quote the URL, and
// with it a password.
func redactURLError(err error) error {
	return fmt.Errorf("invalid (not shown: it may hold a password)")
}
