package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// httpClient sends the SDK's OTLP exporter's batches (otlptrace.Client)
// over OTLP/HTTP in the protobuf encoding
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp).
//
// Why not go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp:
// it imports gRPC (its configuration is shared with the gRPC exporter's,
// and the collector's protobuf package holds the gRPC service), and gRPC
// imports html/template, whose reflection keeps every method of every
// type in the binary: the stripped binary went from 16 to 32 MB, the
// image over its 25 MB target. The spans are still turned into OTLP by the
// SDK's own otlptrace exporter; this is only the POST.
type httpClient struct {
	url      string
	headers  map[string]string
	gzip     bool
	timeout  time.Duration
	client   *http.Client
	maxTries int
}

// newHTTPClient reads the exporter's standard variables: the endpoint
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT, else the file's, with /v1/traces
// appended), headers (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, k=v pairs,
// comma-separated, values percent-encoded), timeout
// (OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT, milliseconds, default 10 s) and
// compression (OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: gzip or none).
func newHTTPClient(fileEndpoint string, getenv func(string) string) (*httpClient, error) {
	either := func(key string) string {
		if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_" + key)); v != "" {
			return v
		}
		return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_" + key))
	}
	c := &httpClient{timeout: 10 * time.Second, maxTries: 3, headers: map[string]string{}}
	switch {
	case strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != "":
		c.url = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	case strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "":
		c.url = strings.TrimRight(strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), "/") + "/v1/traces"
	default:
		c.url = strings.TrimRight(fileEndpoint, "/") + "/v1/traces"
	}
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing: the OTLP endpoint %q is not an http(s) URL (OTEL_EXPORTER_OTLP_ENDPOINT or tracing.endpoint, e.g. http://127.0.0.1:4318)", redactURL(c.url))
	}
	if h := either("HEADERS"); h != "" {
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_HEADERS: want key=value pairs, comma-separated")
			}
			if dv, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
				v = dv
			}
			c.headers[k] = strings.TrimSpace(v)
		}
	}
	if t := either("TIMEOUT"); t != "" {
		ms, err := strconv.Atoi(t)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_TIMEOUT=%q: want milliseconds, e.g. 10000", t)
		}
		c.timeout = time.Duration(ms) * time.Millisecond
	}
	switch comp := strings.ToLower(either("COMPRESSION")); comp {
	case "", "none":
	case "gzip":
		c.gzip = true
	default:
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_COMPRESSION=%q: want gzip or none", comp)
	}
	c.client = &http.Client{Timeout: c.timeout}
	return c, nil
}

// redactURL leaves a URL's user information out of a message.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return s
}

// Start implements otlptrace.Client.
func (c *httpClient) Start(context.Context) error { return nil }

// Stop implements otlptrace.Client.
func (c *httpClient) Stop(context.Context) error {
	c.client.CloseIdleConnections()
	return nil
}

// UploadTraces implements otlptrace.Client: one ExportTraceServiceRequest,
// retried (at most three tries in all, within ctx) when the collector
// answers 429, 502, 503 or 504 or does not answer, as the protocol asks.
func (c *httpClient) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	body, err := exportRequest(rs)
	if err != nil {
		return err
	}
	if c.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	var last error
	for try := 1; try <= c.maxTries; try++ {
		var wait time.Duration
		wait, last = c.post(ctx, body)
		if last == nil || wait < 0 {
			return last
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v)", last, ctx.Err())
		case <-time.After(wait):
		}
	}
	return last
}

// post sends one request; wait is how long to wait before trying again,
// negative when the failure is final.
func (c *httpClient) post(ctx context.Context, body []byte) (wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("tracing: export request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return time.Second, fmt.Errorf("tracing: export to %s: no answer: %w", redactURL(c.url), unwrapURLError(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusBadGateway ||
		resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		wait = time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, 30*time.Second)
		}
		return wait, fmt.Errorf("tracing: export to %s: the collector answered %d", redactURL(c.url), resp.StatusCode)
	default:
		return -1, fmt.Errorf("tracing: export to %s: the collector answered %d", redactURL(c.url), resp.StatusCode)
	}
}

// unwrapURLError drops *url.Error's repetition of the method and URL (the
// URL is named once, redacted).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// exportRequest encodes an ExportTraceServiceRequest (its one field:
// repeated ResourceSpans resource_spans = 1) without the collector's
// package, which holds the gRPC service too.
func exportRequest(rs []*tracepb.ResourceSpans) ([]byte, error) {
	var out []byte
	for _, r := range rs {
		b, err := proto.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("tracing: encode spans: %w", err)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}
