package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Hosts is the host template list of every bench page: two hostnames, as a
// page with a custom domain has, so every event purges each path twice.
const Hosts = "{page_id}.status.example.com,{page_id}.custom.example.com"

// benchZone is the one zone every bench page is served from.
const benchZone = "bench-zone"

// secrets are the credentials of one bench invocation, made up at start.
type secrets struct {
	cfToken    string
	webhook    string // whsec_…
	statuspage string
}

// serverSpec is one `edgepurge serve` of a phase.
type serverSpec struct {
	bin      string
	addr     string
	stubURL  string
	redisURL string
	// id is the bench's unique name: the prefix of every Redis key the
	// server writes and the name of its rate-limit account.
	id           string
	creds        secrets
	stub         StubSpec
	purgeTimeout time.Duration
	logLevel     string
	dir          string
	// cpuProfile, when set, is where the server writes its CPU profile.
	cpuProfile string
	// extraYAML is appended to the config's cloudflare section; extraEnv
	// to the environment (the storm scenario's cover and escalation).
	extraYAML string
	extraEnv  []string
}

// drainDelay is the server's readiness-off delay at SIGTERM; the bench has
// no load balancer to wait for.
const drainDelay = 10 * time.Millisecond

// shutdownTimeout bounds the server's wait for in-flight requests.
const shutdownTimeout = 15 * time.Second

// configYAML is the file part of the server's configuration: what the
// environment cannot set. The server's own rate limit matches the
// stand-in's bucket, the way an operator matches the account's plan; with
// no bucket it is set far above anything the bench can reach, so that the
// limiter still runs and its cost is measured.
func (s serverSpec) configYAML() string {
	rate, burst := s.stub.URLRate, s.stub.urlBurst()
	if rate <= 0 {
		rate, burst = 1e9, 1_000_000_000
	}
	return fmt.Sprintf(`# written by edgepurge-bench
log:
  level: %s
  format: json
server:
  purge_timeout: %s
  drain_delay: %s
  shutdown_timeout: %s
cloudflare:
  max_urls_per_call: %d
  rate_limit:
    urls_per_second: %s
    url_burst: %d
    account: %q
%sregistry:
  prefix: %q
dedupe:
  prefix: %q
audit:
  stream: %q
journal:
  stream: %q
`, s.logLevel, s.purgeTimeout, drainDelay, shutdownTimeout, s.stub.maxItems(),
		strconv.FormatFloat(rate, 'f', -1, 64), burst, s.id, s.extraYAML, s.id+":page:", s.id+":seen:",
		s.id+":audit", s.id+":journal")
}

// env is the server's environment: everything the environment can set.
func (s serverSpec) env() []string {
	env := []string{
		"EDGEPURGE_LISTEN=" + s.addr,
		"REDIS_URL=" + s.redisURL,
		"CLOUDFLARE_API_TOKEN=" + s.creds.cfToken,
		"CLOUDFLARE_ZONE_ID=" + benchZone,
		"CLOUDFLARE_BASE_URL=" + s.stubURL,
		"CLOUDFLARE_PLAN=pro",
		"EDGEPURGE_HOSTS=" + Hosts,
		"EDGEPURGE_KEYS=" + s.id + ":statuspage:{page_id}:summary",
		"EDGEPURGE_WEBHOOK_SECRETS=" + s.creds.webhook,
		"EDGEPURGE_STATUSPAGE_TOKEN=" + s.creds.statuspage,
		// The probe's calls (one URL and one tag a zone every 30 s) would
		// mix into the calls each scenario counts and sizes.
		"EDGEPURGE_PROBE_DISABLED=true",
	}
	if s.cpuProfile != "" {
		env = append(env, "EDGEPURGE_CPUPROFILE="+s.cpuProfile)
	}
	return append(env, s.extraEnv...)
}

// start writes the config file and starts the server; it is not yet ready.
func (s serverSpec) start() (*process, error) {
	path := filepath.Join(s.dir, "edgepurge.yaml")
	if err := os.WriteFile(path, []byte(s.configYAML()), 0o600); err != nil {
		return nil, fmt.Errorf("write server config: %w", err)
	}
	argv := []string{s.bin, "serve", "--config", path}
	return startProcess(argv, s.env(), s.addr, filepath.Join(s.dir, "edgepurge.log"))
}
