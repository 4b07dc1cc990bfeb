package repo

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// Every relative link in README.md and docs/*.md must point at a file that
// exists, and an anchor (#section) at a heading of that file. Paths of
// packages that do not exist are written as inline code, not as links.

var (
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink    = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// markdownDocs are README.md and docs/*.md, slash-separated.
func markdownDocs(t testing.TB) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		out = append(out, "docs/"+filepath.Base(d))
	}
	return out
}

// prose is a Markdown document without fenced code blocks and inline code,
// where links are not links.
func prose(md string) string {
	var b strings.Builder
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(l)
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
			b.WriteString("\n")
			continue
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			b.WriteString("\n")
			continue
		}
		b.WriteString(codeSpan.ReplaceAllString(l, "code") + "\n")
	}
	return b.String()
}

// anchors are the GitHub heading anchors of a Markdown document.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range strings.Split(prose(md), "\n") {
		trimmed := strings.TrimLeft(l, "#")
		if n := len(l) - len(trimmed); n == 0 || n > 6 || !strings.HasPrefix(trimmed, " ") {
			continue
		}
		a := slug(strings.TrimSpace(trimmed))
		if k := seen[a]; k > 0 {
			out[a+"-"+strconv.Itoa(k)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// slug is GitHub's anchor of a heading: the text without Markdown, lower
// case, punctuation dropped (but - and _), spaces turned into hyphens.
func slug(heading string) string {
	heading = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// The original text of headings is needed for slugs (inline code counts),
// so anchorsOf reads the raw file with code spans unwrapped.
func anchorsOf(t testing.TB, rel string) map[string]bool {
	t.Helper()
	md := read(t, rel)
	return anchors(strings.ReplaceAll(md, "`", ""))
}

func TestDocLinksResolve(t *testing.T) {
	checked := 0
	for _, doc := range markdownDocs(t) {
		text := prose(read(t, doc))
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
		for _, m := range refLink.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
				continue // a web address
			}
			checked++
			file, frag, _ := strings.Cut(target, "#")
			rel := doc
			if file != "" {
				rel = path.Clean(path.Join(path.Dir(doc), file))
				if strings.HasPrefix(rel, "../") {
					t.Errorf("%s links to %s, outside the repository", doc, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root(t), filepath.FromSlash(rel))); err != nil {
					t.Errorf("%s links to %s: %s does not exist (write a path that does not exist yet as `code`, not as a link)", doc, target, rel)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(rel, ".md") && !anchorsOf(t, rel)[frag] {
				t.Errorf("%s links to %s: %s has no heading with the anchor #%s", doc, target, rel, frag)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d relative links found in README.md and docs/; is the parse broken?", checked)
	}
}

func TestReadmeListsEveryDoc(t *testing.T) {
	readme := read(t, "README.md")
	for _, doc := range markdownDocs(t)[1:] {
		if !strings.Contains(readme, "("+doc+")") {
			t.Errorf("README.md's table of contents does not link %s", doc)
		}
	}
}
