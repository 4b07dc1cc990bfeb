// Package console is the on-call console: one static page (HTML, CSS and
// one small vanilla JavaScript file, embedded in the binary; no build step,
// nothing fetched from elsewhere) that package server serves at /console.
// The page holds no data of its own: the person on call signs in with the
// API token, which the page keeps in the tab's sessionStorage and sends
// as "Authorization: Bearer" to the JSON API (readiness, /v1/backends,
// /v1/purges, /v1/journal, /v1/stats, /v1/purge, /v1/pages), which stays the source
// of truth.
// Everything that comes from events is rendered as text, never as HTML.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Asset is one file of the console, ready to serve.
type Asset struct {
	Body        []byte
	ContentType string
	// ETag is the body's strong entity tag, quotes included.
	ETag string
}

// Headers go with every console file: a Content-Security-Policy that lets
// the page run only its own script and style and talk only to its own
// origin (no inline script, no framing, no form posted anywhere), no MIME
// sniffing, no referrer, and revalidation on every load (with the ETag), so
// a new version of edgepurge serves its own console at once.
var Headers = [][2]string{
	{"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cache-Control", "no-cache"},
}

// contentTypes of the files in static/.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// assets are the files by URL path, built once.
var assets = func() map[string]Asset {
	out := map[string]Asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		out["/console/"+strings.TrimPrefix(p, "static/")] = Asset{Body: b, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic("console: reading the embedded files: " + err.Error())
	}
	index := out["/console/index.html"]
	out["/console"], out["/console/"] = index, index
	return out
}()

// Lookup returns the file served at a URL path: /console (and /console/)
// is the page, /console/{name} its other files.
func Lookup(urlPath string) (Asset, bool) {
	a, ok := assets[urlPath]
	return a, ok
}
