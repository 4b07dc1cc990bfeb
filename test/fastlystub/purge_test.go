package fastlystub

import (
	"net/http"
	"regexp"
	"slices"
	"testing"
)

var purgeIDPattern = regexp.MustCompile(`^108-\d+-\d+$`)

func TestPurgeURL(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Domains: map[string]string{testHost: testService}})

	r := do(t, http.MethodPost, base+"/purge/"+testHost+"/incidents/a%20b?page=2", "", nil)

	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d content type %q body %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	var body map[string]string
	r.json(t, &body)
	if body["status"] != "ok" || !purgeIDPattern.MatchString(body["id"]) || len(body) != 2 {
		t.Errorf("body = %s", r.raw)
	}
	item := testHost + "/incidents/a%20b?page=2"
	if _, ok := s.Purged(testService)[item]; !ok {
		t.Errorf("Purged = %v, want %s", s.Purged(testService), item)
	}
	calls := s.PurgeCalls()
	if len(calls) != 1 {
		t.Fatalf("calls = %+v", calls)
	}
	c := calls[0]
	if c.Kind != KindURL || c.Service != testService || !slices.Equal(c.Items, []string{item}) || c.Soft ||
		c.Status != 200 || c.Method != http.MethodPost || c.Path != "/purge/"+testHost+"/incidents/a%20b" || c.At.IsZero() {
		t.Errorf("call = %+v", c)
	}
}

func TestPurgeURLOfUnlistedHostIsAcceptedUnderNoService(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	r := do(t, http.MethodPost, base+"/purge/other.example.org/x", "", nil)

	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if _, ok := s.Purged("")["other.example.org/x"]; !ok {
		t.Errorf("Purged(\"\") = %v", s.Purged(""))
	}
}

func TestPurgeKeysBatch(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}, Services: []string{testService}})

	r := purgeKeys(t, base, "page:1", "incident:2")

	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.raw)
	}
	var ids map[string]string
	r.json(t, &ids)
	if len(ids) != 2 || !purgeIDPattern.MatchString(ids["page:1"]) || !purgeIDPattern.MatchString(ids["incident:2"]) || ids["page:1"] == ids["incident:2"] {
		t.Errorf("body = %s, want a distinct purge id per key", r.raw)
	}
	if got := s.Purged(testService); len(got) != 2 {
		t.Errorf("Purged = %v", got)
	}
	if c := s.PurgeCalls()[0]; c.Kind != KindKeys || c.Service != testService || !slices.Equal(c.Items, []string{"page:1", "incident:2"}) {
		t.Errorf("call = %+v", c)
	}
}

func TestPurgeKeysInSurrogateKeyHeader(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	r := do(t, http.MethodPost, base+"/service/"+testService+"/purge", "", http.Header{"Surrogate-Key": {"a b  c"}})

	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.raw)
	}
	if c := s.PurgeCalls()[0]; !slices.Equal(c.Items, []string{"a", "b", "c"}) {
		t.Errorf("items = %v", c.Items)
	}
}

func TestPurgeSingleKey(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	r := do(t, http.MethodPost, base+"/service/"+testService+"/purge/page:1", "", nil)

	var body map[string]string
	r.json(t, &body)
	if r.status != http.StatusOK || body["status"] != "ok" || body["id"] == "" {
		t.Errorf("status %d body %s", r.status, r.raw)
	}
	if _, ok := s.Purged(testService)["page:1"]; !ok {
		t.Errorf("Purged = %v", s.Purged(testService))
	}
}

func TestPurgeAllIsHardEvenWhenAskedSoft(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	r := do(t, http.MethodPost, base+"/service/"+testService+"/purge_all", "", http.Header{"Fastly-Soft-Purge": {"1"}})

	if r.status != http.StatusOK || r.raw != `{"status":"ok"}` {
		t.Fatalf("status %d body %s", r.status, r.raw)
	}
	if _, ok := s.Purged(testService)[AllItem]; !ok {
		t.Errorf("Purged = %v", s.Purged(testService))
	}
	if c := s.PurgeCalls()[0]; c.Kind != KindAll || !c.Soft || !slices.Equal(c.Items, []string{AllItem}) {
		t.Errorf("call = %+v, want the soft header recorded", c)
	}
}

func TestSoftPurgeHeaderIsRecorded(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	do(t, http.MethodPost, base+"/purge/"+testHost+"/a", "", http.Header{"Fastly-Soft-Purge": {"1"}})
	purgeKeys(t, base, "k")
	do(t, http.MethodPost, base+"/service/"+testService+"/purge", `{"surrogate_keys":["k2"]}`, http.Header{"Fastly-Soft-Purge": {"0"}})

	var soft []bool
	for _, c := range s.PurgeCalls() {
		soft = append(soft, c.Soft)
	}
	// Fastly looks only at the header's presence, not its value.
	if !slices.Equal(soft, []bool{true, false, true}) {
		t.Errorf("soft = %v, want [true false true]", soft)
	}
}

func TestMalformedKeyPurges(t *testing.T) {
	bodies := []string{
		`not json`,
		`{}`,
		`{"surrogate_keys":[]}`,
		`{"surrogate_keys":["a",""]}`,
		`{"surrogate_keys":"a"}`,
		``,
	}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}})

			r := do(t, http.MethodPost, base+"/service/"+testService+"/purge", body, nil)

			var e errorBody
			r.json(t, &e)
			if r.status != http.StatusBadRequest || e.Msg != MsgBadRequest || e.Detail == "" {
				t.Errorf("status %d body %s, want 400 with msg and detail", r.status, r.raw)
			}
			if len(s.Purged(testService)) != 0 {
				t.Error("refused call purged")
			}
			if c := s.PurgeCalls()[0]; c.Status != 400 || c.Kind != KindKeys || c.Items != nil {
				t.Errorf("call = %+v", c)
			}
		})
	}
}

func TestUnknownService(t *testing.T) {
	paths := []struct{ method, path string }{
		{http.MethodPost, "/service/nope/purge"},
		{http.MethodPost, "/service/nope/purge/k"},
		{http.MethodPost, "/service/nope/purge_all"},
		{http.MethodGet, "/service/nope"},
	}
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}, Services: []string{testService}})

			r := do(t, p.method, base+p.path, `{"surrogate_keys":["k"]}`, nil)

			want := `{"msg":"Record not found","detail":"Cannot find service 'nope'"}`
			if r.status != http.StatusNotFound || r.raw != want {
				t.Errorf("status %d body %s, want 404 %s", r.status, r.raw, want)
			}
			if len(s.Purged("nope")) != 0 {
				t.Error("unknown service purged")
			}
		})
	}
}

func TestTokenSelf(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{"other", testToken}, Scopes: map[string][]string{testToken: {ScopePurgeSelect, ScopeGlobalRead}}})

	r := do(t, http.MethodGet, base+"/tokens/self", "", nil)

	var body map[string]any
	r.json(t, &body)
	if r.status != http.StatusOK || body["id"] != "token2" || body["scope"] != "purge_select global:read" {
		t.Errorf("status %d body %s", r.status, r.raw)
	}
	if r.header.Get(HeaderRateLimitRemaining) != "" {
		t.Error("a read carries rate-limit headers")
	}
}

func TestGetService(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, Services: []string{testService}, ServiceNames: map[string]string{testService: "status pages"}})

	r := do(t, http.MethodGet, base+"/service/"+testService, "", nil)

	var body struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		DeletedAt *string `json:"deleted_at"`
	}
	r.json(t, &body)
	if r.status != http.StatusOK || body.ID != testService || body.Name != "status pages" || body.DeletedAt != nil {
		t.Errorf("status %d body %s", r.status, r.raw)
	}
}

func TestNoRoute(t *testing.T) {
	s, base := start(t, Options{Tokens: []string{testToken}})

	r := do(t, http.MethodGet, base+"/service/"+testService+"/version", "", nil)

	if r.status != http.StatusNotFound {
		t.Errorf("status %d", r.status)
	}
	if calls := s.Calls(); len(calls) != 1 || calls[0].Status != 404 || len(s.PurgeCalls()) != 0 {
		t.Errorf("calls = %+v", calls)
	}
}
