package cfstub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// errNoKind is Cloudflare's message for a body that is not exactly one kind
// of purge.
var errNoKind = errors.New(`Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"`)

// purgeBody is a well-formed purge_cache body.
type purgeBody struct {
	kind  string
	items []string
}

// parsePurgeBody reads a purge_cache body. Exactly one of files, tags, hosts,
// prefixes or purge_everything must be present and non-empty; files entries
// are URLs or {"url": ..., "headers": {...}} objects.
func parsePurgeBody(data []byte) (purgeBody, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return purgeBody{}, fmt.Errorf("%w (body is not a JSON object)", errNoKind)
	}
	var found []string
	for _, key := range []string{"files", "tags", "hosts", "prefixes", "purge_everything"} {
		if raw, ok := fields[key]; ok && !bytes.Equal(raw, []byte("null")) {
			found = append(found, key)
		}
	}
	if len(found) != 1 {
		return purgeBody{}, errNoKind
	}
	raw := fields[found[0]]
	switch found[0] {
	case "purge_everything":
		var all bool
		if err := json.Unmarshal(raw, &all); err != nil || !all {
			return purgeBody{}, errNoKind
		}
		return purgeBody{kind: KindEverything, items: []string{EverythingItem}}, nil
	case "files":
		urls, err := parseFiles(raw)
		if err != nil {
			return purgeBody{}, err
		}
		return purgeBody{kind: KindFiles, items: urls}, nil
	default:
		var items []string
		if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 || slices.Contains(items, "") {
			return purgeBody{}, errNoKind
		}
		return purgeBody{kind: found[0], items: items}, nil
	}
}

// parseFiles reads the "files" list, whose entries are strings or objects
// with a url and optional headers.
func parseFiles(raw json.RawMessage) ([]string, error) {
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil || len(entries) == 0 {
		return nil, errNoKind
	}
	urls := make([]string, 0, len(entries))
	for _, e := range entries {
		var url string
		if err := json.Unmarshal(e, &url); err == nil && url != "" {
			urls = append(urls, url)
			continue
		}
		var obj struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		}
		if err := json.Unmarshal(e, &obj); err != nil || obj.URL == "" {
			return nil, errNoKind
		}
		urls = append(urls, obj.URL)
	}
	return urls, nil
}
