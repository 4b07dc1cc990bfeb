package purgetest

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"strings"
	"testing"
)

// Live configures a harness against a real account (`make test-live`):
// what the suite may purge there and what it must not do.
type Live struct {
	// ProbeURL is an absolute URL no page serves, and no page's path
	// starts with its path (EDGEPURGE_LIVE_URL).
	ProbeURL string
	// ProbeTag is a cache tag or surrogate key no page carries
	// (EDGEPURGE_LIVE_TAG).
	ProbeTag string
}

// LiveEnv returns the named environment variables, or skips t with one
// line saying which of them to set for cdn's live run.
func LiveEnv(t *testing.T, cdn string, names ...string) map[string]string {
	t.Helper()
	env := map[string]string{}
	var missing []string
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			env[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Skipf("%s: not run against the real API: set %s (a throwaway zone or service, a URL and a tag no page serves: docs/cdns.md)",
			cdn, strings.Join(missing, ", "))
	}
	return env
}

// NewLive checks the probe URL and tag and returns the Live they make.
func NewLive(t *testing.T, probeURL, probeTag string) Live {
	t.Helper()
	u, err := url.Parse(probeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		t.Fatalf("EDGEPURGE_LIVE_URL %q: want an absolute http(s) URL without query or fragment", probeURL)
	}
	if strings.ContainsAny(probeTag, " ,\t") {
		t.Fatalf("EDGEPURGE_LIVE_TAG %q: want one tag, without spaces or commas", probeTag)
	}
	return Live{ProbeURL: probeURL, ProbeTag: probeTag}
}

// Lacks is what a real account cannot do or may not be made to do, with
// more of the harness's own.
func (l Live) Lacks(more map[Capability]string) map[Capability]string {
	lacks := map[Capability]string{
		Record:  "a real API tells no test which calls it received",
		Fail:    "failures are not injected into a real API",
		Hang:    "a real API is not made to hang",
		Down:    "a real API is not taken down",
		Harmful: "a live run never purges a host or everything",
	}
	maps.Copy(lacks, more)
	return lacks
}

// Items sets the target's URL, Tag and Prefix to items under the probes:
// the probe URL with a query, the probe tag with a suffix, and prefixes
// under the probe URL's path.
func (l Live) Items(tg *Target) {
	u, _ := url.Parse(l.ProbeURL)
	tg.URL = func(i int) string { return fmt.Sprintf("%s?purgetest=%d", l.ProbeURL, i) }
	tg.Tag = func(i int) string { return fmt.Sprintf("%s-%d", l.ProbeTag, i) }
	tg.Prefix = func(i int) string {
		return fmt.Sprintf("%s%s/purgetest-%d", u.Host, strings.TrimSuffix(u.EscapedPath(), "/"), i)
	}
}
