package varnish

import (
	"cmp"
	"fmt"
	"net/http"
	"time"

	"github.com/edgepurge/edgepurge/purge"
)

// DefaultTimeout bounds one request to one node.
const DefaultTimeout = 5 * time.Second

// Config is the varnish section of the config file, and what New takes:
// the Varnish nodes the owner runs with the reference VCL
// (examples/varnish/default.vcl); every purge goes to every node.
type Config struct {
	// Nodes are the nodes' base URLs, e.g. http://127.0.0.1:6081.
	Nodes []string `yaml:"nodes"`
	// SoftPurge sends tag purges as xkey-softpurge: the objects expire but
	// stay usable for grace, so readers may get one stale copy while the
	// fresh one is fetched.
	SoftPurge bool `yaml:"soft_purge"`
	// Timeout bounds one request to one node; default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// HTTPClient, when set, makes the requests (tests); by default a client
	// of its own with Timeout.
	HTTPClient *http.Client `yaml:"-" json:"-"`
}

// Enabled reports whether Varnish purging is configured.
func (c Config) Enabled() bool { return len(c.Nodes) > 0 }

// SetDefaults fills in the knobs left unset.
func (c *Config) SetDefaults() { c.Timeout = cmp.Or(c.Timeout, DefaultTimeout) }

// Validate reports every problem of the section's knobs.
func (c Config) Validate() []error {
	var errs []error
	for i, n := range c.Nodes {
		if err := purge.CheckBaseURL(n); err != nil {
			errs = append(errs, fmt.Errorf("varnish.nodes[%d]: %v", i, err))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("varnish.timeout=%s: must be positive", c.Timeout))
	}
	return errs
}
