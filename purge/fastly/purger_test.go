package fastly

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/fastlystub"
)

func TestName(t *testing.T) {
	p := newPurger(t, "http://127.0.0.1:1", Config{})
	if p.Name() != "fastly" {
		t.Errorf("Name = %q", p.Name())
	}
}

func TestURLCallsAreBounded(t *testing.T) {
	for _, tt := range []struct {
		maxInflight, want int
	}{{3, 3}, {0, DefaultMaxInflightCalls}} {
		stub, base := startStub(t, fastlystub.Options{Latency: 20 * time.Millisecond})
		p := newPurger(t, base, Config{MaxInflightCalls: tt.maxInflight})

		res, err := p.Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(40)})

		if err != nil || res.Calls != 40 {
			t.Fatalf("MaxInflight %d: res %+v err %v", tt.maxInflight, res, err)
		}
		if peak := stub.PeakInFlight(); peak > tt.want || peak < 2 {
			t.Errorf("MaxInflight %d: peak of %d calls at once, want 2..%d", tt.maxInflight, peak, tt.want)
		}
	}
}

func TestSoftPurge(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{SoftPurge: true})

	_, err := p.Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(1), Tags: keys(3), Everything: true})

	if err != nil {
		t.Fatal(err)
	}
	for _, c := range stub.PurgeCalls() {
		// Fastly cannot soft-purge everything, so purge_all goes without it.
		if want := c.Kind != fastlystub.KindAll; c.Soft != want {
			t.Errorf("%s call: soft %t, want %t", c.Kind, c.Soft, want)
		}
	}
}

func TestHardPurgeByDefault(t *testing.T) {
	stub, base := startStub(t, fastlystub.Options{})
	p := newPurger(t, base, Config{})

	if _, err := p.Purge(context.Background(), purge.Request{Zone: testService, URLs: urls(1), Tags: keys(1)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range stub.PurgeCalls() {
		if c.Soft {
			t.Errorf("call = %+v, want no Fastly-Soft-Purge", c)
		}
	}
}

func TestRequestsFastlyCannotPurgeAreRefusedWhole(t *testing.T) {
	tests := []struct {
		name string
		req  purge.Request
		want []string
	}{
		{"hosts and prefixes", purge.Request{Zone: testService, Hosts: []string{"h.example"}, Prefixes: []string{"h.example/p"}, Everything: true},
			[]string{"host or prefix", "hosts h.example; prefixes h.example/p", "nothing was purged"}},
		{"relative url", purge.Request{Zone: testService, URLs: []string{"https://" + testHost + "/ok", "/incidents/1", "ftp://x/y"}},
			[]string{"not absolute http(s) URLs: /incidents/1, ftp://x/y"}},
		{"no service", purge.Request{Tags: keys(1)}, []string{"no service id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, base := startStub(t, fastlystub.Options{})
			p := newPurger(t, base, Config{})

			res, err := p.Purge(context.Background(), tt.req)

			pe := purgeError(t, err)
			if pe.Retryable || pe.StatusCode != 0 || res != (purge.Result{}) {
				t.Errorf("err %+v res %+v, want a permanent refusal with nothing done", pe, res)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if n := len(stub.Calls()); n != 0 {
				t.Errorf("%d calls made, want none", n)
			}
		})
	}
}

// TestWireFormat checks one call of each kind byte by byte on a recording
// server.
func TestWireFormat(t *testing.T) {
	type seen struct {
		method, uri, key, soft, contentType, body string
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.RequestURI, r.Header.Get("Fastly-Key"), r.Header.Get("Fastly-Soft-Purge"), r.Header.Get("Content-Type"), string(body)})
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/purge"):
			_, _ = w.Write([]byte(`{"k1":"108-1-1","k2":"108-1-2"}`))
		default:
			_, _ = w.Write([]byte(`{"status":"ok","id":"108-1-3"}`))
		}
	}))
	defer srv.Close()
	p := newPurger(t, srv.URL+"/", Config{SoftPurge: true, MaxInflightCalls: 1})

	_, err := p.Purge(context.Background(), purge.Request{Zone: "svc/1", URLs: []string{"https://" + testHost + "/a b?x=1", "http://" + testHost + "/s?q=a%20b#top", "https://" + testHost}, Tags: []string{"k1", "k2"}, Everything: true})

	if err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"POST", "/purge/" + testHost + "/a%20b?x=1", testToken, "1", "", ""},
		{"POST", "/purge/" + testHost + "/s?q=a%20b", testToken, "1", "", ""}, // no fragment
		{"POST", "/purge/" + testHost + "/", testToken, "1", "", ""},
		{"POST", "/service/svc%2F1/purge", testToken, "1", "application/json", `{"surrogate_keys":["k1","k2"]}`},
		{"POST", "/service/svc%2F1/purge_all", testToken, "", "", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%+v\nwant\n%+v", got, want)
	}
}

func TestKeysAnswerWithoutSomeIDs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"a": "108-1-1"})
	}))
	defer srv.Close()
	p := newPurger(t, srv.URL, Config{})

	res, err := p.Purge(context.Background(), purge.Request{Zone: testService, Tags: []string{"a", "b", "c"}})

	pe := purgeError(t, err)
	if !pe.Retryable || !strings.Contains(pe.Message, "no purge id for keys b, c") {
		t.Errorf("err = %+v", pe)
	}
	if res != (purge.Result{Items: 1, Calls: 1}) {
		t.Errorf("res = %+v, want the one key answered counted", res)
	}
}
