package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// The tests in this file keep the documentation (README.md, BENCHMARKS.md
// and docs/*.md) honest: the berth command lines it shows must parse
// against the real command tree, and the API paths it names must be in
// api/openapi.yaml.
//
// What counts as a berth command line:
//   - a line of a fenced code block (backslash continuations joined) whose
//     command word, after an optional "$ " prompt, "sudo" and VAR=value
//     assignments, is berth or a path to the binary (bin/berth, and the
//     value of ExecStart=/opt/berth/bin/berth in a unit file);
//   - a command substitution $(berth …) in such a line;
//   - an inline code span whose first word is such a command word.
//
// How a command line is read (the way cobra reads it, minus argument counts):
//   - "#" at the start of a word begins a comment; "--" ends the flags.
//   - A flag (--name, --name=value, -x) must exist on the command it follows
//     or be inherited from its parents; one that takes a value consumes the
//     next word. Values are not checked: they are often placeholders.
//   - A word that is neither a flag nor a flag's value names a subcommand of
//     the command so far if it is one (names and aliases), before any
//     argument. Every other word is an argument, and so is every word after
//     the first argument. Placeholders (ws_…, dep_…, PATH, <x>) are
//     arguments like any other word, never commands.
//   - A command group that does not run itself takes no arguments: a word
//     after it that is not one of its commands is an unknown command.
//   - Synopsis notation is allowed: "[" and "]" around optional words are
//     dropped (the words inside are checked as if given), and a "|" followed
//     by a flag separates alternative flags; any other "|", ";", "&&" or
//     "||" ends the command.
//   - Argument counts are not checked: docs mention commands without their
//     arguments (`berth cron pause`).
//
// What counts as an API path, each checked against the paths of
// api/openapi.yaml, which are relative to the server URL ending in /api/v1:
//   - every /api/v1/… anywhere in the text, with the methods written before
//     it when there are any (GET /api/v1/x, PUT/GET /api/v1/x);
//   - every $API/… in a code block, $API being the /api/v1 URL the guides
//     export; on a curl line the method is curl's (-X, else POST when it
//     sends data, else GET);
//   - every "METHOD /path" in a code block or an inline code span, the path
//     relative to /api/v1.
//
// A path matches a spec path when their segments match one for one: a
// literal matches the same literal, and a spec parameter ({id}) matches any
// segment, so concrete ids (dep_123, $DEP, host_…) match their templates.
// A trailing {path} parameter spans the rest of the path, as the spec says
// of a sandbox's file paths. A query (?…) is not part of the path, and an
// optional tail written [/…] is checked both without and with it. When a
// method is known, the spec must have that operation on a matching path.

// docFiles are the documents these tests read: README.md, BENCHMARKS.md
// and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("found no docs under %s: %v", filepath.Join(repoRoot, "docs"), err)
	}
	return append([]string{filepath.Join(repoRoot, "README.md"), filepath.Join(repoRoot, "BENCHMARKS.md")}, docs...)
}

// repoRoot is the repository's root, seen from this package.
const repoRoot = "../.."

// markdown is a document split into what these tests look at.
type markdown struct {
	name  string     // the path relative to the repository root
	text  string     // the whole text
	code  []textLine // fenced code lines, continuations joined
	spans []textLine // inline code spans, outside fenced blocks
}

// textLine is a piece of a document and the line it starts on.
type textLine struct {
	line int
	text string
}

func readMarkdown(t *testing.T, path string) markdown {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(repoRoot, path)
	md := markdown{name: filepath.ToSlash(rel), text: string(b)}
	lines := strings.Split(md.text, "\n")
	// prose is the text outside fenced blocks, with the fenced lines blanked
	// so that a span never crosses a block and line numbers stay.
	prose := make([]string, len(lines))
	fence := ""
	cont := -1 // the code line a trailing backslash continues
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		if fence == "" {
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				fence = trimmed[:3]
				continue
			}
			prose[i] = l
			continue
		}
		if strings.HasPrefix(trimmed, fence) {
			fence = ""
			cont = -1
			continue
		}
		text, more := strings.CutSuffix(l, "\\")
		if cont >= 0 {
			md.code[cont].text += " " + text
		} else {
			md.code = append(md.code, textLine{line: i + 1, text: text})
		}
		cont = -1
		if more {
			cont = len(md.code) - 1
		}
	}
	md.spans = codeSpans(strings.Join(prose, "\n"))
	return md
}

// codeSpans finds the inline code spans of Markdown prose: a run of
// backticks up to the next run of the same length, within one paragraph.
func codeSpans(prose string) []textLine {
	var spans []textLine
	for i := 0; i < len(prose); {
		if prose[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(prose) && prose[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(prose); {
			if strings.HasPrefix(prose[j:], "\n\n") {
				break
			}
			if prose[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(prose) && prose[j+m] == '`' {
				m++
			}
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 {
			i += n
			continue
		}
		body := strings.ReplaceAll(prose[i+n:end], "\n", " ")
		spans = append(spans, textLine{line: 1 + strings.Count(prose[:i], "\n"), text: body})
		i = end + n
	}
	return spans
}

func TestDocsCommandLinesParse(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	checked := 0
	for _, path := range docFiles(t) {
		md := readMarkdown(t, path)
		for _, pieces := range [][]textLine{md.code, md.spans} {
			for _, piece := range pieces {
				for _, args := range berthCommands(shellWords(piece.text)) {
					checked++
					if err := checkCommandLine(root, args); err != nil {
						t.Errorf("%s:%d: `%s`: %v", md.name, piece.line, strings.TrimSpace(piece.text), err)
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d berth command lines: is the docs reader broken?", checked)
	}
}

// shellWords splits a shell line into words, as sh would with its quotes
// and escapes, up to a comment. An unquoted ";" is a word of its own; the
// other operators (|, &&, ||) count only as words of their own, so that a
// synopsis may write postgres|mysql|redis.
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == ';':
			flush()
			words = append(words, ";")
		case c == '#' && !inWord:
			flush()
			return words
		case c == '\'':
			inWord = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				w.WriteString(line[i+1:])
				i = len(line)
				break
			}
			w.WriteString(line[i+1 : i+1+j])
			i += 1 + j
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				w.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			inWord = true
			i++
			w.WriteByte(line[i])
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	flush()
	return words
}

// berthCommands are the berth command lines among words, each as the
// arguments after the command word.
func berthCommands(words []string) [][]string {
	var cmds [][]string
	var cur []string
	inBerth, inSubst := false, false
	atStart := true
	for i, w := range words {
		switch {
		case w == "|" && i+1 < len(words) && strings.HasPrefix(strings.TrimLeft(words[i+1], "["), "-") && inBerth:
			continue // alternatives in a synopsis
		case w == "|" || w == "||" || w == "&&" || w == ";":
			if inBerth {
				cmds = append(cmds, cur)
			}
			cur, inBerth, inSubst, atStart = nil, false, false, true
			continue
		}
		if inBerth {
			if end, ok := strings.CutSuffix(w, ")"); ok && inSubst {
				cmds = append(cmds, append(cur, end))
				cur, inBerth, inSubst, atStart = nil, false, false, false
				continue
			}
			cur = append(cur, w)
			continue
		}
		if at := strings.Index(w, "$("); at >= 0 && isBerthWord(w[at+2:]) {
			inBerth, inSubst = true, true // VAR=$(berth …)
			cur = []string{}
			continue
		}
		if !atStart {
			continue
		}
		switch {
		case isBerthWord(w):
			inBerth = true
			cur = []string{}
		case i == 0 && w == "$", w == "sudo":
		case isAssignment(w):
			if _, v, _ := strings.Cut(w, "="); isBerthWord(v) {
				inBerth = true
				cur = []string{}
			}
		default:
			atStart = false
		}
	}
	if inBerth {
		cmds = append(cmds, cur)
	}
	return cmds
}

// isBerthWord says whether w runs berth: berth itself, or a path to the
// binary (bin/berth, /opt/berth/bin/berth), not the source (cmd/berth).
func isBerthWord(w string) bool {
	return w == "berth" || w == "bin/berth" || strings.HasSuffix(w, "/bin/berth")
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func isAssignment(w string) bool { return assignment.MatchString(w) }

// checkCommandLine reads args as the rules at the top of this file say and
// returns what is wrong with them.
func checkCommandLine(root *cobra.Command, args []string) error {
	cmd := root
	path := "berth"
	argsSeen := false
	for i := 0; i < len(args); i++ {
		a := strings.TrimRight(strings.TrimLeft(args[i], "["), "]")
		switch {
		case a == "":
		case a == "--":
			return nil
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f := lookupFlag(cmd, name)
			if f == nil {
				return fmt.Errorf("%s has no flag --%s (it has %s)", path, name, flagNames(cmd))
			}
			if f.NoOptDefVal == "" && !hasValue {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				f := lookupShorthand(cmd, a[j:j+1])
				if f == nil {
					return fmt.Errorf("%s has no flag -%s (it has %s)", path, a[j:j+1], flagNames(cmd))
				}
				if f.NoOptDefVal == "" {
					if j == len(a)-1 {
						i++
					}
					break
				}
			}
		case !argsSeen && cmd.HasSubCommands():
			if sub := subcommand(cmd, a); sub != nil {
				cmd = sub
				path += " " + sub.Name()
				continue
			}
			if !cmd.Runnable() {
				return fmt.Errorf("%s has no command %q (it has %s)", path, a, commandNames(cmd))
			}
			argsSeen = true
		default:
			argsSeen = true
		}
	}
	return nil
}

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	cmd.InitDefaultHelpFlag()
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	return cmd.InheritedFlags().Lookup(name)
}

func lookupShorthand(cmd *cobra.Command, s string) *pflag.Flag {
	cmd.InitDefaultHelpFlag()
	if f := cmd.Flags().ShorthandLookup(s); f != nil {
		return f
	}
	return cmd.InheritedFlags().ShorthandLookup(s)
}

func flagNames(cmd *cobra.Command) string {
	var names []string
	add := func(f *pflag.Flag) { names = append(names, "--"+f.Name) }
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}

func commandNames(cmd *cobra.Command) string {
	var names []string
	for _, c := range cmd.Commands() {
		if !c.Hidden {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}

func TestDocsCommandCheckerRefuses(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	for _, line := range []string{
		"berth frobnicate",
		"berth deployments frobnicate dep_…",
		"berth deploy ./site --projct prj_…",
		"berth db create main --project prj_… [--engin mysql]",
		"berth cron dep_…",
		"bin/berth up --no-such-flag",
		"ExecStart=/opt/berth/bin/berth up --no-such-flag",
		"X=1 berth orgs create \"A\" --slg a",
		"$ berth docker-deploy ensure --workspace ws_… -z",
		"berth db link ID --sandbox ID | --deploymnt ID",
		"ORG=$(berth orgs create x --slg y)",
	} {
		cmds := berthCommands(shellWords(line))
		if len(cmds) != 1 {
			t.Errorf("%s: found %d berth commands, want 1", line, len(cmds))
			continue
		}
		if err := checkCommandLine(root, cmds[0]); err == nil {
			t.Errorf("%s: passed, want an error", line)
		}
	}
	for _, line := range []string{
		"berth workspaces create --org org_… \"Dr Smith\" [--slug S]",
		"berth deployment pause dep_…",
		"WS=$(berth workspaces create --org org_… x) && berth projects create --workspace $WS y",
		"berth cron create report --schedule \"0 9 * * 1-5\" -- node --no-such-flag",
		"berth db link ID --sandbox ID | --deployment ID",
		"berth up --rollback-standby=false --help",
		"berth buckets delete bkt_… --force",
		"berth deploy ./site --project prj_…   # --not-a-flag in a comment",
		"berth deploy ./site | tee --not-a-flag && berth rollback dep_…",
		"berth deploy . | tee log && sudo bin/berth up; ls",
	} {
		for _, args := range berthCommands(shellWords(line)) {
			if err := checkCommandLine(root, args); err != nil {
				t.Errorf("%s: %v", line, err)
			}
		}
	}
	for line, want := range map[string]int{
		"go build -o bin/berth ./cmd/berth": 0,
		"cmd/berth":                         0,
		"echo berth up":                     0,
		"berth deploy . | tee log && sudo bin/berth up; ls": 2,
		"ORG=$(berth orgs create x)":                        1,
		"ORG=$(bin/berth orgs create x | jq -r .id)":        1,
		"A=1 B=2 berth up":                                  1,
		"ExecStart=/opt/berth/bin/berth up --domain x":      1,
	} {
		if got := len(berthCommands(shellWords(line))); got != want {
			t.Errorf("%s: found %d berth commands, want %d", line, got, want)
		}
	}
}

// specPaths are the operations of api/openapi.yaml: path → upper-case
// methods.
func specPaths(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatalf("parsing api/openapi.yaml: %v", err)
	}
	out := map[string][]string{}
	for p, item := range spec.Paths {
		out[p] = []string{}
		for m := range item {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out[p] = append(out[p], strings.ToUpper(m))
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("api/openapi.yaml has only %d paths", len(out))
	}
	return out
}

// apiRef is an API path a document names, and the methods it names it
// with (none when it names none).
type apiRef struct {
	line    int
	path    string // relative to /api/v1
	methods []string
}

const (
	methodRE = `(?:GET|PUT|POST|PATCH|DELETE|HEAD)`
	pathRE   = `/[^\s` + "`" + `"'()\[\]?#,;<>]*`
)

var (
	// absAPIPath is /api/v1/… with the methods written before it.
	absAPIPath = regexp.MustCompile(`(?:\b(` + methodRE + `(?:/` + methodRE + `)*)\s+)?/api/v1(` + pathRE + `)`)
	// varAPIPath is $API/… in a shell line.
	varAPIPath = regexp.MustCompile(`\$\{?API\}?(` + pathRE + `)`)
	// relAPIPath is "METHOD /path", relative to /api/v1.
	relAPIPath = regexp.MustCompile(`\b(` + methodRE + `(?:/` + methodRE + `)*)\s+(` + pathRE + `)`)
)

// apiRefs finds the API paths md names, as the rules at the top of this file
// say.
func apiRefs(md markdown) []apiRef {
	var refs []apiRef
	add := func(line int, path, methods, after string) {
		var ms []string
		if methods != "" {
			ms = strings.Split(methods, "/")
		}
		path = strings.TrimRight(path, ".:")
		refs = append(refs, apiRef{line: line, path: path, methods: ms})
		// An optional tail: /runs[/{run_id}].
		if tail, ok := strings.CutPrefix(after, "[/"); ok {
			if end := strings.IndexByte(tail, ']'); end >= 0 {
				refs = append(refs, apiRef{line: line, path: path + "/" + tail[:end], methods: ms})
			}
		}
	}
	for _, m := range absAPIPath.FindAllStringSubmatchIndex(md.text, -1) {
		methods := ""
		if m[2] >= 0 {
			methods = md.text[m[2]:m[3]]
		}
		line := 1 + strings.Count(md.text[:m[0]], "\n")
		add(line, md.text[m[4]:m[5]], methods, md.text[m[1]:])
	}
	for _, l := range md.code {
		method := ""
		words := shellWords(l.text)
		if slices.ContainsFunc(words, func(w string) bool { return w == "curl" || strings.HasSuffix(w, "$(curl") }) {
			method = curlMethod(words)
		}
		for _, m := range varAPIPath.FindAllStringSubmatchIndex(l.text, -1) {
			add(l.line, l.text[m[2]:m[3]], method, l.text[m[1]:])
		}
	}
	for _, pieces := range [][]textLine{md.code, md.spans} {
		for _, l := range pieces {
			for _, m := range relAPIPath.FindAllStringSubmatchIndex(l.text, -1) {
				path := l.text[m[4]:m[5]]
				if strings.HasPrefix(path, "/api/v1") {
					continue // found above
				}
				add(l.line, path, l.text[m[2]:m[3]], l.text[m[1]:])
			}
		}
	}
	return refs
}

// curlMethod is the method of a curl command line.
func curlMethod(words []string) string {
	method := "GET"
	for i, w := range words {
		switch {
		case (w == "-X" || w == "--request") && i+1 < len(words):
			return words[i+1]
		case strings.HasPrefix(w, "-X") && len(w) > 2 && !strings.HasPrefix(w, "--"):
			return w[2:]
		case w == "-d" || strings.HasPrefix(w, "--data") || w == "-F" || w == "--form":
			method = "POST"
		case w == "-T" || w == "--upload-file":
			method = "PUT"
		}
	}
	return method
}

// matchSpec are the spec paths that path matches.
func matchSpec(spec map[string][]string, path string) []string {
	doc := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for p := range spec {
		if segmentsMatch(strings.Split(strings.Trim(p, "/"), "/"), doc) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func segmentsMatch(spec, doc []string) bool {
	for i, s := range spec {
		if i >= len(doc) || doc[i] == "" {
			return false
		}
		param := strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
		switch {
		case param && s == "{path}" && i == len(spec)-1:
			return true
		case param:
		case strings.HasPrefix(doc[i], "{"):
			return false // a template in the doc stands for a parameter
		case s != doc[i]:
			return false
		}
	}
	return len(spec) == len(doc)
}

func TestDocsAPIPathsExist(t *testing.T) {
	spec := specPaths(t)
	checked := 0
	for _, path := range docFiles(t) {
		md := readMarkdown(t, path)
		for _, ref := range apiRefs(md) {
			checked++
			matches := matchSpec(spec, ref.path)
			if len(matches) == 0 {
				t.Errorf("%s:%d: /api/v1%s: api/openapi.yaml has no such path", md.name, ref.line, ref.path)
				continue
			}
			for _, m := range ref.methods {
				ok := slices.ContainsFunc(matches, func(p string) bool { return slices.Contains(spec[p], m) })
				if !ok {
					t.Errorf("%s:%d: %s /api/v1%s: api/openapi.yaml has %s, but no %s on it", md.name, ref.line, m, ref.path, strings.Join(matches, " and "), m)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d API paths: is the docs reader broken?", checked)
	}
}

func TestDocsPathMatcher(t *testing.T) {
	spec := map[string][]string{
		"/deployments":                 {"GET", "POST"},
		"/deployments/{id}":            {"GET", "DELETE"},
		"/deployments/{id}/pause":      {"POST"},
		"/sandboxes/{id}/files/{path}": {"GET"},
	}
	for path, want := range map[string][]string{
		"/deployments/dep_123":          {"/deployments/{id}"},
		"/deployments/$DEP/pause":       {"/deployments/{id}/pause"},
		"/deployments/{id}/pause":       {"/deployments/{id}/pause"},
		"/deployments/{id}/stop":        nil,
		"/deployments/":                 {"/deployments"},
		"/sandboxes/$SBX/files/a/b.txt": {"/sandboxes/{id}/files/{path}"},
		"/sandboxes/$SBX/files":         nil,
		"/{id}":                         nil,
	} {
		if got := matchSpec(spec, path); !slices.Equal(got, want) {
			t.Errorf("matchSpec(%s) = %v, want %v", path, got, want)
		}
	}
	md := markdown{text: "see `PUT/GET /api/v1/orgs/{id}/branding` and\n`POST\n/api/v1/routes/resync`, and GET /api/v1/cron-jobs/{id}/runs[/{run_id}].\n"}
	var got []string
	for _, r := range apiRefs(md) {
		got = append(got, fmt.Sprintf("%d %v %s", r.line, r.methods, r.path))
	}
	want := []string{"1 [PUT GET] /orgs/{id}/branding", "2 [POST] /routes/resync", "3 [GET] /cron-jobs/{id}/runs", "3 [GET] /cron-jobs/{id}/runs/{run_id}"}
	if !slices.Equal(got, want) {
		t.Errorf("apiRefs = %q, want %q", got, want)
	}
}
