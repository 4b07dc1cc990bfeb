package config

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Tracing configures OpenTelemetry traces (package tracing): off unless
// an OTLP/HTTP endpoint is set here or in OTEL_EXPORTER_OTLP_ENDPOINT
// (which wins). Sampling, headers and the rest are the standard OTEL_*
// variables, read by the OpenTelemetry SDK.
type Tracing struct {
	// Endpoint is the OTLP/HTTP collector's base URL, e.g.
	// http://127.0.0.1:4318 (/v1/traces is appended).
	Endpoint string `yaml:"endpoint"`
	// Instance is the service.instance.id resource attribute; default
	// the hostname and process id.
	Instance string `yaml:"instance"`
}

// DefaultAdminListen is where /debug/pprof/ is served unless
// server.admin_listen says otherwise: loopback only.
const DefaultAdminListen = "127.0.0.1:9091"

// AdminOff as server.admin_listen turns the admin listener off.
const AdminOff = "off"

// setTracingDefaults fills in the admin listener's address.
func (c *Config) setTracingDefaults() {
	c.Server.AdminListen = cmp.Or(c.Server.AdminListen, DefaultAdminListen)
}

// validateTracing checks the tracing endpoint and the admin listener.
func (c *Config) validateTracing() []error {
	var errs []error
	if e := c.Tracing.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("tracing.endpoint %q: want the OTLP/HTTP collector's base URL, e.g. http://127.0.0.1:4318", e))
		}
	}
	if a := c.Server.AdminListen; a != AdminOff {
		if _, _, err := net.SplitHostPort(a); err != nil || strings.TrimSpace(a) == "" {
			errs = append(errs, fmt.Errorf("server.admin_listen %q: want host:port, e.g. 127.0.0.1:9091, or off (EDGEPURGE_ADMIN_LISTEN)", a))
		}
	}
	return errs
}
