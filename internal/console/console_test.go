package console

import (
	"strings"
	"testing"
)

// The hand-purge form offers every list a manual purge takes, as the
// CLI's purge does (a Redis key could once be purged from the CLI only):
// an option, its items field, and the request field it fills.
func TestPurgeFormOffersWhatTheCLIDoes(t *testing.T) {
	page, _ := Lookup("/console")
	js, _ := Lookup("/console/console.js")
	if !strings.Contains(string(page.Body), `data-for="url tag host prefix key"`) {
		t.Errorf("the items field is not shown for every list")
	}
	for kind, field := range map[string]string{"url": "urls", "tag": "tags", "host": "hosts", "prefix": "prefixes", "key": "keys"} {
		if !strings.Contains(string(page.Body), `<option value="`+kind+`">`) {
			t.Errorf("the form has no option %q", kind)
		}
		if !strings.Contains(string(js.Body), kind+": '"+field+"'") {
			t.Errorf("console.js does not send the %s option as %q", kind, field)
		}
	}
}
