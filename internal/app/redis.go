package app

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/config"
)

// dialTimeout is short: a Redis that does not answer at once should fail
// the request's Redis part (and readiness) quickly, not eat its deadline.
const dialTimeout = time.Second

// NewRedis returns a client for a single node, a Cluster or a
// Sentinel-managed master, as the config's mode says.
func NewRedis(c config.Redis) (redis.UniversalClient, error) {
	switch c.Mode {
	case "cluster":
		o, err := redis.ParseClusterURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url (cluster): %w", redactURLError(err))
		}
		o.MaxRetries, o.DialTimeout = 1, dialTimeout
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

// redactURLError drops the error's text when it could quote the URL, and
// with it a password.
func redactURLError(err error) error {
	return fmt.Errorf("invalid (not shown: it may hold a password)")
}
