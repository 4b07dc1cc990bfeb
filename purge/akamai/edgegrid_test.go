package akamai

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// vectors is testdata/edgegrid_vectors.json: Akamai's published EdgeGrid
// test vectors (its _source says where from).
type vectors struct {
	BaseURL       string   `json:"base_url"`
	AccessToken   string   `json:"access_token"`
	ClientToken   string   `json:"client_token"`
	ClientSecret  string   `json:"client_secret"`
	MaxBody       int      `json:"max_body"`
	HeadersToSign []string `json:"headers_to_sign"`
	Nonce         string   `json:"nonce"`
	Timestamp     string   `json:"timestamp"`
	SignKeyTest   string   `json:"sign_key_test"`
	Tests         []struct {
		Name    string `json:"testName"`
		Request struct {
			Method     string `json:"method"`
			Path       string `json:"path"`
			Data       string `json:"data"`
			DataRepeat *struct {
				Char  string `json:"char"`
				Count int    `json:"count"`
			} `json:"data_repeat"`
			Headers []map[string]string `json:"headers"`
		} `json:"request"`
		DataToSign    string `json:"expectedDataToSign"`
		Authorization string `json:"expectedAuthorization"`
	} `json:"tests"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	data, err := os.ReadFile("testdata/edgegrid_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tests) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// TestEdgeGridVectors signs every request of Akamai's test vectors and
// compares the data signed and the Authorization header with Akamai's.
func TestEdgeGridVectors(t *testing.T) {
	v := loadVectors(t)
	s := Signer{
		Credentials:   Credentials{ClientToken: v.ClientToken, ClientSecret: v.ClientSecret, AccessToken: v.AccessToken},
		MaxBody:       v.MaxBody,
		HeadersToSign: v.HeadersToSign,
	}
	if got := SigningKey(v.ClientSecret, v.Timestamp); got != v.SignKeyTest {
		t.Errorf("signing key %q, want %q", got, v.SignKeyTest)
	}
	for _, tc := range v.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			body := tc.Request.Data
			if r := tc.Request.DataRepeat; r != nil {
				body = strings.Repeat(r.Char, r.Count)
			}
			r, err := http.NewRequest(tc.Request.Method, strings.TrimSuffix(v.BaseURL, "/")+tc.Request.Path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.Request.Headers {
				for k, val := range h {
					if strings.EqualFold(k, "Host") {
						r.Host = val
					} else {
						r.Header.Set(k, val)
					}
				}
			}
			p := AuthParams{ClientToken: v.ClientToken, AccessToken: v.AccessToken, Timestamp: v.Timestamp, Nonce: v.Nonce}
			// Akamai's expected data stops before the unsigned header.
			if got := s.DataToSign(r, []byte(body), p.Unsigned()); got != tc.DataToSign+p.Unsigned() {
				t.Errorf("data to sign\n got %q\nwant %q", got, tc.DataToSign)
			}
			if got := s.Authorization(r, []byte(body), v.Timestamp, v.Nonce); got != tc.Authorization {
				t.Errorf("authorization\n got %q\nwant %q", got, tc.Authorization)
			}
		})
	}
}

// TestParseAuthorization reads back what Authorization writes, the
// signature's trailing "=" included, and refuses what is not EdgeGrid.
func TestParseAuthorization(t *testing.T) {
	v := loadVectors(t)
	h := v.Tests[0].Authorization
	p, ok := ParseAuthorization(h)
	if !ok || p.ClientToken != v.ClientToken || p.AccessToken != v.AccessToken || p.Timestamp != v.Timestamp ||
		p.Nonce != v.Nonce || p.Header() != h {
		t.Errorf("ParseAuthorization(%q) = %+v, %t", h, p, ok)
	}
	for _, bad := range []string{"", "Bearer x", "EG1-HMAC-SHA256 client_token=a;access_token=b;timestamp=c;nonce=d;"} {
		if _, ok := ParseAuthorization(bad); ok {
			t.Errorf("ParseAuthorization(%q) accepted", bad)
		}
	}
}
