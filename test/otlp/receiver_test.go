package otlp

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// receiver is an OTLP/HTTP trace receiver (protobuf encoding), as a
// collector's otlphttp receiver is: POST /v1/traces with an
// ExportTraceServiceRequest, answered with an ExportTraceServiceResponse
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp).
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	spans     []*span
	resources []*commonpb.KeyValue
	bad       []string // what the exporter sent that the protocol does not allow
}

// span is a received span, with the attributes of its resource.
type span struct {
	*tracepb.Span
}

func (s *span) traceID() string  { return hex.EncodeToString(s.TraceId) }
func (s *span) spanID() string   { return hex.EncodeToString(s.SpanId) }
func (s *span) parentID() string { return hex.EncodeToString(s.ParentSpanId) }
func (s *span) duration() time.Duration {
	return time.Duration(s.EndTimeUnixNano - s.StartTimeUnixNano)
}

// attr is the string form of one of the span's attributes, "" if absent.
func (s *span) attr(key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return anyString(kv.Value)
		}
	}
	return ""
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		r.note(fmt.Sprintf("%s %s: want POST /v1/traces", req.Method, req.URL.Path))
		http.NotFound(w, req)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.note("Content-Type " + ct + ": want application/x-protobuf")
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &in); err != nil {
		r.note("undecodable ExportTraceServiceRequest: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range in.ResourceSpans {
		r.resources = append(r.resources, rs.GetResource().GetAttributes()...)
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, &span{s})
			}
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (r *receiver) note(s string) {
	r.mu.Lock()
	r.bad = append(r.bad, s)
	r.mu.Unlock()
}

// all is every span received so far.
func (r *receiver) all() []*span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// resource is the first value of a resource attribute received.
func (r *receiver) resource(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, kv := range r.resources {
		if kv.Key == key {
			return anyString(kv.Value)
		}
	}
	return ""
}

// waitFor polls the received spans until cond holds, for up to 30 s (a
// loaded machine's worth: the exporter sends every 100 ms).
func (r *receiver) waitFor(t *testing.T, what string, cond func([]*span) bool) []*span {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		spans := r.all()
		if cond(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("never received %s; %d spans:\n%s", what, len(spans), names(spans))
		}
	}
}

// inTrace is the spans of one trace.
func inTrace(spans []*span, traceID string) []*span {
	var out []*span
	for _, s := range spans {
		if s.traceID() == traceID {
			out = append(out, s)
		}
	}
	return out
}

func named(spans []*span, name string) []*span {
	var out []*span
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func names(spans []*span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s trace=%s span=%s parent=%s\n", s.Name, s.traceID(), s.spanID(), s.parentID())
	}
	return b.String()
}

// render draws one trace as an indented tree of span names and
// durations, children in start order, with each span's links; the text
// docs/operations.md shows.
func render(spans []*span) string {
	children := map[string][]*span{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.spanID()] = true
	}
	var roots []*span
	for _, s := range spans {
		if p := s.parentID(); p != "" && p != "0000000000000000" && ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(l []*span) {
		sort.Slice(l, func(i, j int) bool { return l[i].StartTimeUnixNano < l[j].StartTimeUnixNano })
	}
	var b bytes.Buffer
	var walk func(s *span, depth int, t0 uint64)
	walk = func(s *span, depth int, t0 uint64) {
		label := strings.Repeat("  ", depth) + s.Name
		fmt.Fprintf(&b, "%-52s +%7.1f ms  %8.1f ms", label, float64(s.StartTimeUnixNano-t0)/1e6, float64(s.duration().Microseconds())/1000)
		if len(s.Links) > 0 {
			fmt.Fprintf(&b, "  (links to %d events)", len(s.Links))
		}
		b.WriteString("\n")
		l := children[s.spanID()]
		byStart(l)
		for _, c := range l {
			walk(c, depth+1, t0)
		}
	}
	byStart(roots)
	for _, r := range roots {
		walk(r, 0, r.StartTimeUnixNano)
	}
	return b.String()
}

// strings is every string a span carries: its name, status message,
// attributes, events' and links' attributes and link trace states.
func (s *span) strings() []string {
	out := []string{s.Name, s.GetStatus().GetMessage(), s.TraceState}
	add := func(kvs []*commonpb.KeyValue) {
		for _, kv := range kvs {
			out = append(out, kv.Key, anyString(kv.Value))
		}
	}
	add(s.Attributes)
	for _, e := range s.Events {
		out = append(out, e.Name)
		add(e.Attributes)
	}
	for _, l := range s.Links {
		out = append(out, l.TraceState)
		add(l.Attributes)
	}
	return out
}

// anyString is an attribute value as text (arrays joined by commas).
func anyString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.Values {
			parts = append(parts, anyString(e))
		}
		return strings.Join(parts, ",")
	case *commonpb.AnyValue_BytesValue:
		return string(x.BytesValue)
	}
	return ""
}
