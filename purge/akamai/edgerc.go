package akamai

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseEdgeRC reads section of an .edgerc file, the INI file Akamai's
// tools keep EdgeGrid credentials in
// (https://techdocs.akamai.com/developer/docs/set-up-authentication-credentials):
// "[section]" headers, "key = value" lines, "#" and ";" comments, values
// optionally quoted.
func ParseEdgeRC(data []byte, section string) (Credentials, error) {
	var c Credentials
	found := false
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return Credentials{}, fmt.Errorf("line %d: unterminated section header", n)
			}
			current = strings.TrimSpace(line[1 : len(line)-1])
			found = found || current == section
			continue
		}
		if current != section {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Credentials{}, fmt.Errorf("line %d: want key = value", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "host":
			c.Host = v
		case "client_token":
			c.ClientToken = v
		case "client_secret":
			c.ClientSecret = v
		case "access_token":
			c.AccessToken = v
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, err
	}
	if !found {
		return Credentials{}, fmt.Errorf("no section [%s]", section)
	}
	return c, nil
}
