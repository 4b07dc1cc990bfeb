package fastlystub

import (
	"net/http"
	"testing"
)

func TestFailureShapes(t *testing.T) {
	tests := []struct {
		shape       Shape
		contentType string
		want        string
	}{
		{ShapeLegacy, "application/json", `{"msg":"Bad request","detail":"no such thing"}`},
		{ShapeJSONAPI, "application/vnd.api+json", `{"errors":[{"title":"Bad request","detail":"no such thing"}]}`},
		{ShapeProblem, "application/problem+json", `{"title":"Bad request","detail":"no such thing","status":400}`},
		{ShapeStatusFail, "application/json", `{"status":"fail","reason":"Bad request: no such thing"}`},
	}
	for _, tt := range tests {
		t.Run(tt.contentType+" "+tt.want, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}})
			s.SetFailure(Failure{Status: http.StatusBadRequest, Msg: "Bad request", Detail: "no such thing", Shape: tt.shape})

			r := purgeKeys(t, base, "k")

			if r.status != http.StatusBadRequest || r.raw != tt.want || r.header.Get("Content-Type") != tt.contentType {
				t.Errorf("status %d %s body %s\nwant 400 %s %s", r.status, r.header.Get("Content-Type"), r.raw, tt.contentType, tt.want)
			}
			if len(s.Purged(testService)) != 0 {
				t.Error("failed call purged")
			}
		})
	}
}

func TestErrorShapeOption(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, Services: []string{testService}, ErrorShape: ShapeProblem, MaxKeysPerCall: 1})

	unknown := do(t, http.MethodPost, base+"/service/nope/purge_all", "", nil)
	over := purgeKeys(t, base, "a", "b")
	okay := purgeKeys(t, base, "a")

	want := `{"title":"Record not found","detail":"Cannot find service 'nope'","status":404}`
	if unknown.status != http.StatusNotFound || unknown.raw != want || unknown.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown service: status %d %s body %s, want 404 problem %s", unknown.status, unknown.header.Get("Content-Type"), unknown.raw, want)
	}
	// The batch purge's own answer keeps Fastly's {"status":"fail"} form.
	wantOver := `{"status":"fail","reason":"Batch surrogate key request only supports up to 1 surrogate keys"}`
	if over.status != http.StatusBadRequest || over.raw != wantOver {
		t.Errorf("2 keys: status %d body %s, want 400 %s", over.status, over.raw, wantOver)
	}
	if okay.status != http.StatusOK || okay.header.Get("Content-Type") != "application/json" {
		t.Errorf("1 key: status %d %s, want 200 application/json", okay.status, okay.header.Get("Content-Type"))
	}
}
