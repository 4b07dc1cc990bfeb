package cfstub

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

func TestPurgeAuthentication(t *testing.T) {
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantCodes     []int
	}{
		{"missing", "", http.StatusBadRequest, []int{CodeMissingAuth}},
		{"not bearer", "Basic " + testToken, http.StatusBadRequest, []int{CodeInvalidHeaders}},
		{"bad characters", "Bearer bad token!", http.StatusBadRequest, []int{CodeInvalidHeaders}},
		{"unknown token", "Bearer unknown_token", http.StatusForbidden, []int{CodeInvalidAccessToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := start(t, Options{Tokens: []string{testToken}})

			r, err := call(t, context.Background(), http.MethodPost, base+"zones/"+testZone+"/purge_cache", tt.authorization, `{"tags":["a"]}`)
			if err != nil {
				t.Fatal(err)
			}

			if r.status != tt.wantStatus || !slices.Equal(r.codes(), tt.wantCodes) {
				t.Errorf("status %d codes %v, want %d %v", r.status, r.codes(), tt.wantStatus, tt.wantCodes)
			}
			if len(s.Purged(testZone, KindTags)) != 0 {
				t.Error("refused call purged")
			}
			if c := s.PurgeCalls()[0]; c.Status != tt.wantStatus || c.Kind != KindTags {
				t.Errorf("call = %+v", c)
			}
		})
	}
}

func TestMalformedAuthorizationCarriesErrorChain(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}})

	r, err := call(t, context.Background(), http.MethodPost, base+"zones/"+testZone+"/purge_cache", "Token x", `{"tags":["a"]}`)
	if err != nil {
		t.Fatal(err)
	}

	want := `{"success":false,"errors":[{"code":6003,"message":"Invalid request headers","error_chain":[{"code":6111,"message":"Invalid format for Authorization header"}]}],"messages":[],"result":null}`
	if r.raw != want {
		t.Errorf("body = %s\nwant   %s", r.raw, want)
	}
}

func TestCheckToken(t *testing.T) {
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantCodes     []int
	}{
		{"good", "Bearer " + testToken, http.StatusOK, nil},
		{"unknown", "Bearer other_token", http.StatusUnauthorized, []int{CodeInvalidAPIToken}},
		{"missing", "", http.StatusBadRequest, []int{CodeMissingAuthHeader}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base := start(t, Options{Tokens: []string{testToken}})

			r, err := call(t, context.Background(), http.MethodGet, base+"user/tokens/verify", tt.authorization, "")
			if err != nil {
				t.Fatal(err)
			}

			if r.status != tt.wantStatus || !slices.Equal(r.codes(), tt.wantCodes) {
				t.Errorf("status %d codes %v, want %d %v", r.status, r.codes(), tt.wantStatus, tt.wantCodes)
			}
			if tt.wantStatus == http.StatusOK {
				want := `{"success":true,"errors":[],"messages":[{"code":10000,"message":"This API Token is valid and active"}],"result":{"id":"ed17574386854bf78a67040be0a770b0","status":"active"}}`
				if r.raw != want {
					t.Errorf("body = %s\nwant   %s", r.raw, want)
				}
			}
		})
	}
}

func TestGetZone(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}, Zones: []string{testZone}, ZoneNames: map[string]string{testZone: "status.example.com"}})

	known, err := call(t, context.Background(), http.MethodGet, base+"zones/"+testZone, "Bearer "+testToken, "")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := call(t, context.Background(), http.MethodGet, base+"zones/nope", "Bearer "+testToken, "")
	if err != nil {
		t.Fatal(err)
	}

	wantResult := `{"id":"` + testZone + `","name":"status.example.com","paused":false,"status":"active","type":"full"}`
	if known.status != http.StatusOK || string(known.env.Result) != wantResult {
		t.Errorf("known zone: status %d result %s, want 200 %s", known.status, known.env.Result, wantResult)
	}
	if unknown.status != http.StatusBadRequest || !slices.Equal(unknown.codes(), []int{CodeInvalidZone, CodeNoRoute}) {
		t.Errorf("unknown zone: status %d codes %v", unknown.status, unknown.codes())
	}
	if msg := unknown.env.Errors[0].Message; msg != "Could not route to /zones/nope, perhaps your object identifier is invalid?" {
		t.Errorf("message = %q", msg)
	}
}

func TestUnknownRoute(t *testing.T) {
	_, base := start(t, Options{Tokens: []string{testToken}})

	r, err := call(t, context.Background(), http.MethodGet, base+"zones/"+testZone+"/dns_records", "Bearer "+testToken, "")
	if err != nil {
		t.Fatal(err)
	}

	if r.status != http.StatusBadRequest || !slices.Equal(r.codes(), []int{CodeNoRoute}) {
		t.Errorf("status %d codes %v, want 400 [%d]", r.status, r.codes(), CodeNoRoute)
	}
}
