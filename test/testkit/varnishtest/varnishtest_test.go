package varnishtest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func get(t *testing.T, v *Varnish, method, path string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+v.Addr+path, nil)
	req.Host = "p0.status.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(b)
}

func TestStartCachesAndPurges(t *testing.T) {
	var hits atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=300")
		fmt.Fprintf(w, "version %d of %s on %s", n, r.URL.Path, r.Host)
	}))
	defer origin.Close()
	v := Start(t, Options{Origin: strings.TrimPrefix(origin.URL, "http://")})

	if code, xc, body := get(t, v, "GET", "/"); code != 200 || xc != "MISS" || body != "version 1 of / on p0.status.example.com" {
		t.Fatalf("first GET: %d %s %q\n%s", code, xc, body, v.Output())
	}
	if _, xc, body := get(t, v, "GET", "/"); xc != "HIT" || body != "version 1 of / on p0.status.example.com" {
		t.Errorf("second GET: %s %q", xc, body)
	}
	if code, _, _ := get(t, v, "PURGE", "/"); code != 200 {
		t.Errorf("PURGE: %d", code)
	}
	if _, xc, body := get(t, v, "GET", "/"); xc != "MISS" || body != "version 2 of / on p0.status.example.com" {
		t.Errorf("after PURGE: %s %q", xc, body)
	}

	v.Stop()
	if c, err := net.Dial("tcp", v.Addr); err == nil {
		c.Close()
		t.Error("varnishd still listens after Stop")
	}
}

func TestACLIsRewritten(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	v := Start(t, Options{Origin: strings.TrimPrefix(origin.URL, "http://"), ACL: []string{`"192.0.2.1"`}})
	if code, _, _ := get(t, v, "PURGE", "/"); code != http.StatusMethodNotAllowed {
		t.Errorf("PURGE from outside the ACL: %d, want 405", code)
	}
}
