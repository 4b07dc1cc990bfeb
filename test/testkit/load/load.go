// Package load is the load generator and the invariant check shared by the
// fault and scale suites: it sends events to `edgepurge serve` processes,
// keeps what each got, counts the answers, and checks the promise: every
// event answered 2xx has all its URLs purged at the Cloudflare stand-in
// after it arrived and all its Redis keys gone, within a bounded time;
// every other answer is a status the caller retries (429, 502, 503).
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/internal/chain"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// Sent is one event of a load and what came of it.
type Sent struct {
	// To names the instance the event went to ("" when there is one).
	To   string
	Page string
	At   time.Time
	Code int
	// Err is a transport failure; Refused says the connection was never
	// accepted (nothing reached the server).
	Err     error
	Refused bool
	// Raw is the answer's body.
	Raw    string
	Answer chain.Answer
}

// label names the event in failure messages.
func (s Sent) label() string {
	if s.To == "" {
		return s.Page
	}
	return s.Page + " to " + s.To
}

// NewClient is the load's HTTP client: a new connection per request, as
// an idle keep-alive connection closed by a draining server would pass
// for a request cut off.
func NewClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// Post sends one request to base+path and records its answer; At is the
// moment it was sent.
func Post(client *http.Client, base, path string, body []byte, headers map[string]string) Sent {
	s := Sent{At: time.Now()}
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		s.Err, s.Refused = err, errors.As(err, &op) && op.Op == "dial"
		return s
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.Code, s.Raw = resp.StatusCode, string(raw)
	if err != nil {
		s.Err = fmt.Errorf("read answer: %w", err)
	} else if jerr := json.Unmarshal(raw, &s.Answer); jerr != nil && s.Code < 300 {
		s.Err = fmt.Errorf("2xx answer is not JSON: %w: %s", jerr, raw)
	}
	return s
}

// SetKey writes key (the page's cached summary) just before its event is
// sent: its absence later proves the purge.
func SetKey(rdb redis.Cmdable, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = rdb.Set(ctx, key, "cached", 0).Err()
	cancel()
}

// Load is a running load: events sent by concurrent workers.
type Load struct {
	next   atomic.Int64
	done   atomic.Int64
	events []Sent
	wg     sync.WaitGroup
}

// Start sends n events with workers concurrent senders, each pausing pace
// between events. send sends event i with client (a NewClient) and
// returns what came of it.
func Start(n, workers int, pace time.Duration, send func(client *http.Client, i int) Sent) *Load {
	l := &Load{events: make([]Sent, n)}
	client := NewClient()
	for range workers {
		l.wg.Go(func() {
			for {
				i := int(l.next.Add(1)) - 1
				if i >= n {
					return
				}
				l.events[i] = send(client, i)
				l.done.Add(1)
				time.Sleep(pace)
			}
		})
	}
	return l
}

// Done is how many events were answered (or failed) so far.
func (l *Load) Done() int64 { return l.done.Load() }

// WaitSent waits until n events were answered (or failed).
func (l *Load) WaitSent(n int) {
	for l.done.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
}

// Wait waits for the whole load and returns its events.
func (l *Load) Wait() []Sent {
	l.wg.Wait()
	return l.events
}

// Counts sums up a load's answers.
type Counts struct {
	Events, OK200, Accepted202 int
	// Failed5xx counts 502 and 503, Throttled429 counts 429; both are
	// in ByCode too, with every other status that is not 2xx.
	Failed5xx, Throttled429 int
	// Refused counts requests that never reached a server, Cut those that
	// reached one and got no answer.
	Refused, Cut int
	ByCode       map[int]int
}

// String sums up the counts for the test log.
func (c Counts) String() string {
	return fmt.Sprintf("%d events: %d answered 2xx (%d × 200, %d × 202), %d × 5xx, %d × 429, others by status %v, %d refused before reaching a server, %d transport errors after",
		c.Events, c.OK200+c.Accepted202, c.OK200, c.Accepted202, c.Failed5xx, c.Throttled429, c.ByCode, c.Refused, c.Cut)
}

// Check is the invariant's view of a suite's world.
type Check struct {
	// Stub is the Cloudflare stand-in the instances purge at.
	Stub *cfstub.Server
	// Redis is the test's own client of the instances' Redis.
	Redis redis.Cmdable
	// KeyPrefix is the prefix of the page's key,
	// KeyPrefix+"statuspage:{page_id}:summary".
	KeyPrefix string
	// ExtraURLs says events may name URLs beyond their page's 11; without
	// it a plan must hold exactly 11.
	ExtraURLs bool
	// Poll is the pause between looks at the stand-in.
	Poll time.Duration
	// KeyTimeout bounds the Redis reads of one event's keys.
	KeyTimeout time.Duration
}

// Invariant checks the promise over events and returns their counts: every
// 2xx has all its URLs purged at the stand-in after it arrived and its
// keys gone, within `within`; every other answer is a status the caller
// retries. allowCut permits requests that reached a SIGKILLed instance and
// got no answer. excused, when set, lists event pages whose 2xx may be met
// by a dead letter instead of a purge.
func (c Check) Invariant(t testing.TB, events []Sent, within time.Duration, allowCut bool, excused func(page string) bool) Counts {
	t.Helper()
	n := Counts{Events: len(events), ByCode: map[int]int{}}
	var owed []Sent
	for _, s := range events {
		switch {
		case s.Err != nil && s.Refused:
			n.Refused++
		case s.Err != nil:
			n.Cut++
			if !allowCut {
				t.Errorf("event %s: no answer: %v", s.label(), s.Err)
			}
		case s.Code == http.StatusOK:
			n.OK200++
			if s.Answer.Status != chain.StatusPurged {
				t.Errorf("event %s: 200 with status %q", s.Page, s.Answer.Status)
			}
			owed = append(owed, s)
		case s.Code == http.StatusAccepted:
			n.Accepted202++
			if s.Answer.Status != chain.StatusJournaled || s.Answer.JournalID == "" {
				t.Errorf("event %s: 202 with status %q, journal id %q", s.Page, s.Answer.Status, s.Answer.JournalID)
			}
			owed = append(owed, s)
		case s.Code == http.StatusTooManyRequests:
			n.Throttled429++
			n.ByCode[s.Code]++
		case s.Code == http.StatusBadGateway || s.Code == http.StatusServiceUnavailable:
			n.Failed5xx++
			n.ByCode[s.Code]++
		default:
			n.ByCode[s.Code]++
			t.Errorf("event %s: answered %d, neither 2xx nor a status the caller retries: %s", s.label(), s.Code, s.Raw)
		}
	}
	deadline := time.Now().Add(within)
	var missing []string
	for {
		missing = missing[:0]
		purged := c.Stub.Purged(proc.Zone, cfstub.KindFiles)
		for _, s := range owed {
			if excused != nil && excused(s.Page) {
				continue
			}
			if why := c.unpurged(s, purged); why != "" {
				missing = append(missing, why)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(c.Poll)
	}
	if len(missing) > 0 {
		t.Errorf("%d events answered 2xx were not purged within %s; first: %s", len(missing), within, strings.Join(missing[:min(5, len(missing))], "; "))
	}
	return n
}

// unpurged says what of a 2xx event is not purged yet, or "".
func (c Check) unpurged(s Sent, purged map[string]time.Time) string {
	if c.ExtraURLs && len(s.Answer.Plan.URLs) < 11 {
		return fmt.Sprintf("%s: plan of %d URLs, want at least 11", s.Page, len(s.Answer.Plan.URLs))
	}
	if !c.ExtraURLs && len(s.Answer.Plan.URLs) != 11 {
		return fmt.Sprintf("%s: plan of %d URLs, want 11", s.Page, len(s.Answer.Plan.URLs))
	}
	for _, u := range s.Answer.Plan.URLs {
		at, ok := purged[u]
		if !ok {
			return fmt.Sprintf("%s: %s never purged", s.Page, u)
		}
		if at.Before(s.At) {
			return fmt.Sprintf("%s: %s last purged at %s, before the event (%s)", s.Page, u, at.Format(time.StampMicro), s.At.Format(time.StampMicro))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.KeyTimeout)
	defer cancel()
	for _, k := range s.Answer.Plan.Keys {
		n, err := c.Redis.Exists(ctx, k).Result()
		if err != nil {
			return fmt.Sprintf("%s: key %s unreadable: %v", s.Page, k, err)
		}
		if n != 0 {
			return fmt.Sprintf("%s: key %s still in Redis", s.Page, k)
		}
	}
	if want := c.KeyPrefix + "statuspage:" + s.Page + ":summary"; !slices.Contains(s.Answer.Plan.Keys, want) {
		return fmt.Sprintf("%s: plan keys %v lack %s", s.Page, s.Answer.Plan.Keys, want)
	}
	return ""
}
