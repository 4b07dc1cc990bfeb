package akamai

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// EdgeGrid is Akamai's request signing for its APIs, EG1-HMAC-SHA256
// (https://techdocs.akamai.com/developer/docs/authenticate-with-edgegrid),
// written here because Akamai's Go module is not available to this
// module. It is tested against the vectors Akamai publishes with its
// reference clients (testdata/edgegrid_vectors.json).
//
// A request carries an Authorization header
//
//	EG1-HMAC-SHA256 client_token=C;access_token=A;timestamp=T;nonce=N;signature=S
//
// where S is base64(HMAC-SHA256(key, data)), key is
// base64(HMAC-SHA256(client_secret, T)) and data is the tab-joined method,
// scheme, host, path with query, the signed headers, the hash of a POST
// body and the header up to "signature=".

// EdgeGridAlgorithm is the moniker that starts an EdgeGrid Authorization
// header.
const EdgeGridAlgorithm = "EG1-HMAC-SHA256"

// DefaultMaxBody is how much of a POST body the signature covers, as in
// Akamai's clients (131,072 bytes); Fast Purge bodies are far smaller.
const DefaultMaxBody = 131072

// TimestampFormat is EdgeGrid's timestamp layout, always in UTC.
const TimestampFormat = "20060102T15:04:05+0000"

// Credentials are an Akamai API client's EdgeGrid credentials: what an
// .edgerc section holds.
type Credentials struct {
	// Host is the client's API hostname, akab-….luna.akamaiapis.net.
	Host         string
	ClientToken  string
	ClientSecret string
	AccessToken  string
}

// Signer signs requests with EdgeGrid. The zero MaxBody is DefaultMaxBody.
type Signer struct {
	Credentials
	// MaxBody is how many bytes of a POST body are hashed.
	MaxBody int
	// HeadersToSign are the request headers the signature covers, in this
	// order; edgepurge signs none, like Akamai's clients by default.
	HeadersToSign []string
}

// AuthParams are the fields of an EdgeGrid Authorization header.
type AuthParams struct {
	ClientToken, AccessToken, Timestamp, Nonce, Signature string
}

// Unsigned is the header's text up to and including "nonce=N;": the part
// the signature covers.
func (p AuthParams) Unsigned() string {
	return EdgeGridAlgorithm + " client_token=" + p.ClientToken + ";access_token=" + p.AccessToken +
		";timestamp=" + p.Timestamp + ";nonce=" + p.Nonce + ";"
}

// Header is the whole Authorization header.
func (p AuthParams) Header() string { return p.Unsigned() + "signature=" + p.Signature }

// ParseAuthorization reads an EdgeGrid Authorization header; ok is false
// when it is not one or lacks a field.
func ParseAuthorization(h string) (AuthParams, bool) {
	rest, found := strings.CutPrefix(h, EdgeGridAlgorithm+" ")
	if !found {
		return AuthParams{}, false
	}
	var p AuthParams
	for _, kv := range strings.Split(rest, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "client_token":
			p.ClientToken = v
		case "access_token":
			p.AccessToken = v
		case "timestamp":
			p.Timestamp = v
		case "nonce":
			p.Nonce = v
		case "signature":
			// A base64 signature may end in "=": keep all after the first.
			_, p.Signature, _ = strings.Cut(kv, "=")
		}
	}
	ok := p.ClientToken != "" && p.AccessToken != "" && p.Timestamp != "" && p.Nonce != "" && p.Signature != ""
	return p, ok
}

// Timestamp is t as EdgeGrid writes it.
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampFormat) }

// NewNonce is a random nonce, a UUID-like 32 hex digits.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// Sign sets r's Authorization header for body (the bytes r sends) with a
// fresh timestamp and nonce.
func (s Signer) Sign(r *http.Request, body []byte) {
	r.Header.Set("Authorization", s.Authorization(r, body, Timestamp(time.Now()), NewNonce()))
}

// Authorization is the Authorization header of r with body at timestamp
// and nonce.
func (s Signer) Authorization(r *http.Request, body []byte, timestamp, nonce string) string {
	p := AuthParams{ClientToken: s.ClientToken, AccessToken: s.AccessToken, Timestamp: timestamp, Nonce: nonce}
	p.Signature = s.Signature(r, body, p)
	return p.Header()
}

// Signature is the signature of r with body under p's unsigned header; a
// server recomputes it from the header it received to check it.
func (s Signer) Signature(r *http.Request, body []byte, p AuthParams) string {
	return hmacBase64([]byte(SigningKey(s.ClientSecret, p.Timestamp)), s.DataToSign(r, body, p.Unsigned()))
}

// SigningKey is the key a request signed at timestamp is signed with.
func SigningKey(clientSecret, timestamp string) string {
	return hmacBase64([]byte(clientSecret), timestamp)
}

// DataToSign is what the signature covers: method, scheme, host, path and
// query, signed headers, content hash and the unsigned header, tab-joined.
func (s Signer) DataToSign(r *http.Request, body []byte, unsigned string) string {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	scheme := r.URL.Scheme
	if scheme == "" {
		// A server sees no scheme: EdgeGrid APIs are HTTPS only.
		scheme = "https"
	}
	return strings.Join([]string{
		strings.ToUpper(r.Method), strings.ToLower(scheme), host, path,
		s.canonicalHeaders(r.Header), s.contentHash(r.Method, body), unsigned,
	}, "\t")
}

// spaces are the runs of whitespace a signed header's value is folded at.
var spaces = regexp.MustCompile(`\s+`)

// canonicalHeaders are the signed headers present in h, as
// "name:value" with the name lower-cased and the value trimmed and its
// whitespace folded, tab-joined.
func (s Signer) canonicalHeaders(h http.Header) string {
	var out []string
	for _, name := range s.HeadersToSign {
		if v := h.Get(name); v != "" {
			out = append(out, strings.ToLower(name)+":"+spaces.ReplaceAllString(strings.TrimSpace(v), " "))
		}
	}
	return strings.Join(out, "\t")
}

// contentHash is base64(SHA-256) of a POST body's first MaxBody bytes;
// empty for other methods and empty bodies.
func (s Signer) contentHash(method string, body []byte) string {
	if !strings.EqualFold(method, http.MethodPost) || len(body) == 0 {
		return ""
	}
	maxBody := s.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hmacBase64(key []byte, data string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
