package scale

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/edgepurge/edgepurge/cache"
	"github.com/edgepurge/edgepurge/test/testkit/proc"
)

// pagesAPI: one bulk write through the pages API on instance a, its pages
// spread over many hash slots (on a Cluster, over every primary), then an
// incident update of each page sent to b or c: each is purged on every
// hostname written, and any instance lists the pages by hostname.
func (e *scaleEnv) pagesAPI(t *testing.T, insts []*instance) {
	e.t = t
	e.stub.Reset()
	call := func(in *instance, method, path string, body any) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, in.Base+path, r)
		req.Header.Set("Authorization", "Bearer "+proc.APIToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := eventClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s on %s: %v", method, path, in.name, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, raw
	}
	const n = 12
	var pages []map[string]any
	for i := range n {
		id := fmt.Sprintf("api%d", i)
		pages = append(pages, map[string]any{"id": id, "hosts": []string{id + ".custom.test", "www." + id + ".custom.test"}})
	}
	slots := map[int]bool{}
	for _, p := range pages {
		slots[cache.KeySlot(registryKey+p["id"].(string))] = true
	}
	if len(slots) < 3 {
		t.Fatalf("the pages fall in %d hash slots; the check needs several", len(slots))
	}
	code, raw := call(insts[0], http.MethodPut, "/v1/pages", map[string]any{"pages": pages})
	var res struct {
		Results []struct{ ID, Result string }
	}
	if err := json.Unmarshal(raw, &res); code != http.StatusOK || err != nil || len(res.Results) != n {
		t.Fatalf("bulk PUT on %s: %d %s", insts[0].name, code, raw)
	}
	for _, r := range res.Results {
		if r.Result != "created" {
			t.Errorf("%s: %s", r.ID, r.Result)
		}
	}

	for i := range n {
		id := fmt.Sprintf("api%d", i)
		in := insts[1+i%2]
		s := e.hook(in, "msg_pages_"+id, fmt.Appendf(nil, `{"type":"incident.updated","page_id":%q,"incident_id":"inc%d"}`, id, i))
		if s.Err != nil || s.Code != http.StatusOK {
			t.Fatalf("incident update of %s on %s: %d %v %s", id, in.name, s.Code, s.Err, s.Raw)
		}
		for _, host := range []string{id + ".custom.test", "www." + id + ".custom.test"} {
			u := fmt.Sprintf("https://%s/incidents/inc%d", host, i)
			if !slices.Contains(s.Answer.Plan.URLs, u) {
				t.Errorf("%s planned %s without %s: %q", in.name, id, u, s.Answer.Plan.URLs)
			}
			if !slices.Contains(e.stub.URLsPurged(proc.Zone), u) {
				t.Errorf("%s not purged at the CDN", u)
			}
		}
	}

	code, raw = call(insts[2], http.MethodGet, "/v1/pages?host=www.api3.custom.test", nil)
	var list struct {
		Pages []struct{ ID string }
	}
	if err := json.Unmarshal(raw, &list); code != http.StatusOK || err != nil || len(list.Pages) != 1 || list.Pages[0].ID != "api3" {
		t.Errorf("GET /v1/pages?host= on %s: %d %s", insts[2].name, code, raw)
	}
}
