package cfstub

import (
	"net/http"
	"slices"
	"testing"
)

func TestPurgeAnswersCloudflareEnvelope(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Zones: []string{testZone}})

	r := purge(t, base, testZone, `{"files":["https://a.example/x","https://a.example/y"]}`)

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", r.status)
	}
	want := `{"success":true,"errors":[],"messages":[],"result":{"id":"` + testZone + `"}}`
	if r.raw != want {
		t.Errorf("body = %s\nwant   %s", r.raw, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := s.URLsPurged(testZone); !slices.Equal(got, []string{"https://a.example/x", "https://a.example/y"}) {
		t.Errorf("URLsPurged = %v", got)
	}
	calls := s.PurgeCalls()
	if len(calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(calls))
	}
	c := calls[0]
	if c.Zone != testZone || c.Kind != KindFiles || c.Status != 200 || len(c.Codes) != 0 || c.At.IsZero() {
		t.Errorf("call = %+v", c)
	}
}

func TestPurgeBodyKinds(t *testing.T) {
	tests := []struct {
		body      string
		wantKind  string
		wantItems []string
	}{
		{`{"files":["https://a.example/1"]}`, KindFiles, []string{"https://a.example/1"}},
		{`{"files":["https://a.example/1",{"url":"https://a.example/2","headers":{"CF-IPCountry":"US"}}]}`, KindFiles, []string{"https://a.example/1", "https://a.example/2"}},
		{`{"tags":["page:1","incident:2"]}`, KindTags, []string{"page:1", "incident:2"}},
		{`{"hosts":["status.example.com"]}`, KindHosts, []string{"status.example.com"}},
		{`{"prefixes":["status.example.com/api"]}`, KindPrefixes, []string{"status.example.com/api"}},
		{`{"purge_everything":true}`, KindEverything, []string{EverythingItem}},
	}
	for _, tt := range tests {
		t.Run(tt.wantKind, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}})

			r := purge(t, base, testZone, tt.body)

			if r.status != http.StatusOK || !r.env.Success {
				t.Fatalf("status = %d, body %s", r.status, r.raw)
			}
			c := s.PurgeCalls()[0]
			if c.Kind != tt.wantKind || !slices.Equal(c.Items, tt.wantItems) {
				t.Errorf("call kind %q items %v, want %q %v", c.Kind, c.Items, tt.wantKind, tt.wantItems)
			}
			purged := s.Purged(testZone, tt.wantKind)
			if len(purged) != len(tt.wantItems) {
				t.Errorf("purged = %v, want %v", purged, tt.wantItems)
			}
		})
	}
}

func TestPurgeRejectsMalformedBodies(t *testing.T) {
	bodies := []string{
		`not json`,
		`{}`,
		`{"files":[]}`,
		`{"files":["https://a.example/1"],"tags":["t"]}`,
		`{"files":[{"headers":{"Origin":"https://a.example"}}]}`,
		`{"tags":[""]}`,
		`{"purge_everything":false}`,
		`{"hosts":"status.example.com"}`,
	}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}})

			r := purge(t, base, testZone, body)

			if r.status != http.StatusBadRequest || r.env.Success || r.raw[len(r.raw)-len(`"result":null}`):] != `"result":null}` {
				t.Fatalf("status %d body %s, want 400 failure envelope", r.status, r.raw)
			}
			if !slices.Equal(r.codes(), []int{CodeBadPurgeBody}) {
				t.Errorf("codes = %v, want [%d]", r.codes(), CodeBadPurgeBody)
			}
			if c := s.PurgeCalls()[0]; c.Kind != "" || c.Status != 400 {
				t.Errorf("call = %+v, want no kind and status 400", c)
			}
			if n := len(s.Purged(testZone, KindFiles)) + len(s.Purged(testZone, KindTags)); n != 0 {
				t.Errorf("%d items purged by a refused call", n)
			}
		})
	}
}

func TestUnknownZone(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Zones: []string{testZone}})

	r := purge(t, base, "nope", `{"tags":["a"]}`)

	if r.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", r.status)
	}
	if !slices.Equal(r.codes(), []int{CodeInvalidZone, CodeNoRoute}) {
		t.Errorf("codes = %v", r.codes())
	}
	wantMsg := "Could not route to /zones/nope/purge_cache, perhaps your object identifier is invalid?"
	if r.env.Errors[0].Message != wantMsg {
		t.Errorf("message = %q", r.env.Errors[0].Message)
	}
	if len(s.Purged("nope", KindTags)) != 0 {
		t.Error("unknown zone recorded as purged")
	}
}
