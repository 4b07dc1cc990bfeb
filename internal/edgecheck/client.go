package edgecheck

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// edgeClients keeps one HTTP client per edge address: its transport dials
// the edge whatever the request's host, so a purged URL is asked for at
// that edge under its own hostname.
type edgeClients struct {
	timeout time.Duration
	mu      sync.Mutex
	clients map[string]edgeClient
}

type edgeClient struct {
	client *http.Client
	scheme string
}

func newEdgeClients(timeout time.Duration) *edgeClients {
	return &edgeClients{timeout: timeout, clients: map[string]edgeClient{}}
}

// get returns the client of edge (http(s)://host[:port]) and the scheme
// its requests must use.
func (e *edgeClients) get(edge string) (*http.Client, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.clients[edge]; ok {
		return c.client, c.scheme, nil
	}
	u, err := url.Parse(edge)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("edge %q: want http(s)://host:port", edge)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	dialer := &net.Dialer{Timeout: e.timeout}
	c := edgeClient{scheme: u.Scheme, client: &http.Client{
		Timeout: e.timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: maxConcurrentChecks,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	e.clients[edge] = c
	return c.client, c.scheme, nil
}
