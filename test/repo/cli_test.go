package repo

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// cliDoc is where the CLI reference lives: every command and every long
// flag of `edgepurge --help` and `edgepurge <command> --help` must be
// named there.
const cliDoc = "docs/operations.md"

// subcommands parses the "Available Commands:" section of a cobra help.
func subcommands(help string) []string {
	var cmds []string
	in := false
	for _, l := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(l, "Available Commands:"):
			in = true
		case in && strings.TrimSpace(l) == "":
			return cmds
		case in:
			if f := strings.Fields(l); len(f) > 0 {
				cmds = append(cmds, f[0])
			}
		}
	}
	return cmds
}

// flagLine matches a flag's line in a cobra help: "  -h, --help   help".
var flagLine = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9-]*)`)

func longFlags(help string) []string {
	var out []string
	for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
		out = append(out, m[1])
	}
	return out
}

// mentionsFlag reports whether doc names --flag, not as a prefix of a
// longer flag.
func mentionsFlag(doc, flag string) bool {
	re := regexp.MustCompile(`(^|[^a-z0-9-])--` + regexp.QuoteMeta(flag) + `($|[^a-z0-9-])`)
	return re.MatchString(doc)
}

func TestCLIHelpMatchesDocs(t *testing.T) {
	bin := edgepurgeBin(t)
	doc := read(t, cliDoc)
	rootHelp := run(t, root(t), cleanEnv(), bin, "--help")
	cmds := subcommands(rootHelp)
	for _, must := range []string{"serve", "purge", "check", "health", "version"} {
		if !slices.Contains(cmds, must) {
			t.Fatalf("edgepurge --help lists %v, without %s (PRODUCT.md's commands); is the parse broken?\n%s", cmds, must, rootHelp)
		}
	}
	flags := map[string][]string{"": longFlags(rootHelp)}
	for _, c := range cmds {
		flags[c] = longFlags(run(t, root(t), cleanEnv(), bin, c, "--help"))
		if !strings.Contains(doc, "`edgepurge "+c) {
			t.Errorf("%s does not document the command `edgepurge %s`", cliDoc, c)
		}
	}
	for c, fs := range flags {
		if len(fs) == 0 {
			t.Errorf("edgepurge %s --help lists no flags; is the parse broken?", c)
		}
		for _, f := range fs {
			if !mentionsFlag(doc, f) {
				t.Errorf("%s does not document --%s (of `edgepurge %s --help`)", cliDoc, f, c)
			}
		}
	}
}
