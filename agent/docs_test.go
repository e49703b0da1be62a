package agent_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/agent/strictjson"
	"github.com/vipagent/vipagent/reactions"
)

// The documentation's fenced blocks (README.md and the help topics) are
// held to mechanical rules, by kind, named by the block's info string:
//
//	sh               runs, as written, in a fresh directory with the test's
//	                 binary as ./vipagent and on PATH, as this user and (as
//	                 root) as nobody; every command exits 0 (a block that
//	                 shows a failure says so, `|| test $? -eq N`). A second
//	                 word names a fixture the test sets up first (below).
//	text             synopses, diagrams and sample output: never commands.
//	yaml             a whole vipagent config: parsed and validated.
//	yaml fragment    part of a vipagent config: its keys replace a small
//	                 valid config's, and the result is parsed and validated.
//	yaml prometheus  a Prometheus config: parsed, top-level keys known.
//	json             parses; `json result` and `json report` are wire
//	                 examples and decode strictly into reactions.Result and
//	                 report.Payload.
//	go               Go declarations: parse, and are gofmt'd.
//
// Go toolchain lines in sh blocks: `go build` and `go run` run for real as
// this user (in a view of this module); `go test` cannot run inside a test,
// so .ci/run must carry the same command line.
var docKinds = map[string][]string{
	"sh":   {"", "signed-report", "signed-alarm"},
	"text": {""},
	"yaml": {"", "fragment", "prometheus"},
	"json": {"", "result", "report"},
	"go":   {""},
}

type docBlock struct {
	file  string // relative to the repository's root
	line  int    // of the opening fence
	kind  string // the info string's first word
	attr  string // its second word, if any
	body  string // the lines between the fences, the fence's indent removed
	where string // file:line, for messages
}

var fence = regexp.MustCompile("^( *)(```+|~~~+)(.*)$")

// docBlocks is every fenced block of README.md and templates/help/*.md.
func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	files := []string{"README.md"}
	help, err := filepath.Glob("../templates/help/*.md")
	if err != nil || len(help) == 0 {
		t.Fatalf("no help topics in ../templates/help (%v)", err)
	}
	for _, h := range help {
		files = append(files, "templates/help/"+filepath.Base(h))
	}
	var blocks []docBlock
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		var cur *docBlock
		var indent int
		var marker string
		var body strings.Builder
		for i, line := range strings.Split(string(b), "\n") {
			m := fence.FindStringSubmatch(line)
			switch {
			case cur == nil && m != nil:
				words := strings.Fields(m[3])
				cur = &docBlock{file: f, line: i + 1, where: fmt.Sprintf("%s:%d", f, i+1)}
				if len(words) > 0 {
					cur.kind = words[0]
				}
				if len(words) > 1 {
					cur.attr = strings.Join(words[1:], " ")
				}
				indent, marker = len(m[1]), m[2]
				body.Reset()
			case cur != nil && m != nil && strings.TrimSpace(m[3]) == "" && strings.HasPrefix(m[2], marker[:1]) && len(m[2]) >= len(marker):
				cur.body = body.String()
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				n := 0
				for n < indent && n < len(line) && line[n] == ' ' {
					n++
				}
				body.WriteString(line[n:] + "\n")
			}
		}
		if cur != nil {
			t.Errorf("%s: the block opened here is never closed", cur.where)
		}
	}
	return blocks
}

// Every block has a kind from docKinds, and each kind is checked below.
func TestDocBlocksHaveKnownKinds(t *testing.T) {
	count := map[string]int{}
	for _, b := range docBlocks(t) {
		attrs, ok := docKinds[b.kind]
		switch {
		case b.kind == "":
			t.Errorf("%s: a block without an info string; say what it is (%s)", b.where, kindList())
		case !ok || !slices.Contains(attrs, b.attr):
			t.Errorf("%s: unknown block kind %q; known: %s", b.where, strings.TrimSpace(b.kind+" "+b.attr), kindList())
		}
		count[strings.TrimSpace(b.kind+" "+b.attr)]++
	}
	t.Logf("blocks by kind: %v", count)
}

func kindList() string {
	var ks []string
	for k, attrs := range docKinds {
		for _, a := range attrs {
			ks = append(ks, strings.TrimSpace(k+" "+a))
		}
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func blocksOf(t *testing.T, kind string) []docBlock {
	var out []docBlock
	for _, b := range docBlocks(t) {
		if b.kind == kind {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s blocks: the block reader is broken", kind)
	}
	return out
}

// fragmentBase is the smallest valid config; a fragment's top-level keys
// replace its own.
const fragmentBase = `
node: rm1
nodes: {rm1: {member_id: 1}}
vips: {rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}}
reactions: [{name: r, match: {condition: X}, steps: [{disable: rm-vip}]}]
`

// prometheusKeys are the top-level keys of a Prometheus configuration.
var prometheusKeys = []string{"global", "scrape_configs", "scrape_config_files", "rule_files", "alerting",
	"remote_write", "remote_read", "storage", "tracing", "runtime", "otlp"}

// Every yaml block is what it says: a whole config or a fragment of one
// that config check accepts (the files it names are the site's, so they
// are not read), or a Prometheus configuration.
func TestDocYAMLBlocks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Linux run checks the blocks; on Windows the Linux examples' paths (a Unix socket) are refused, as they should be")
	}
	for _, b := range blocksOf(t, "yaml") {
		t.Run(b.where, func(t *testing.T) {
			src := []byte(b.body)
			switch b.attr {
			case "prometheus":
				var doc map[string]any
				if err := yaml.Unmarshal(src, &doc); err != nil {
					t.Fatalf("not YAML: %v\n%s", err, b.body)
				}
				for k := range doc {
					if !slices.Contains(prometheusKeys, k) {
						t.Errorf("%q is not a Prometheus configuration key", k)
					}
				}
				return
			case "fragment":
				var base, frag map[string]any
				if err := yaml.Unmarshal([]byte(fragmentBase), &base); err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal(src, &frag); err != nil {
					t.Fatalf("not YAML: %v\n%s", err, b.body)
				}
				for k, v := range frag {
					base[k] = v
				}
				var err error
				if src, err = yaml.Marshal(base); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Parse(src)
			if err == nil {
				err = cfg.Validate(func(string) string { return "" })
			}
			if err != nil {
				t.Errorf("config check refuses it: %v\n%s", err, b.body)
			}
		})
	}
}

// Every json block parses; a wire example decodes strictly (no unknown or
// repeated keys, no trailing data) into the type it shows.
func TestDocJSONBlocks(t *testing.T) {
	for _, b := range blocksOf(t, "json") {
		t.Run(b.where, func(t *testing.T) {
			var dst any
			switch b.attr {
			case "result":
				dst = &reactions.Result{}
			case "report":
				dst = &report.Payload{}
			default:
				dst = &map[string]any{}
			}
			if err := strictjson.Decode([]byte(b.body), dst); err != nil {
				t.Errorf("does not decode into %T: %v\n%s", dst, err, b.body)
			}
		})
	}
}

// stdImports are the packages go blocks may use without an import line
// (a block shows a function, not a file).
var stdImports = map[string]string{"hmac": "crypto/hmac", "sha256": "crypto/sha256", "hex": "encoding/hex",
	"fmt": "fmt", "strconv": "strconv", "time": "time", "http": "net/http", "io": "io", "json": "encoding/json"}

// Every go block is Go declarations as gofmt writes them, and compiles
// with the standard packages it names imported.
func TestDocGoBlocks(t *testing.T) {
	for _, b := range blocksOf(t, "go") {
		t.Run(b.where, func(t *testing.T) {
			src := "package doc\n\n" + b.body
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, b.where, src, parser.AllErrors)
			if err != nil {
				t.Fatalf("does not parse: %v\n%s", err, b.body)
			}
			out, err := format.Source([]byte(src))
			if err != nil || string(out) != src {
				t.Errorf("not as gofmt writes it (%v):\n%s", err, out)
			}
			if runtime.GOOS == "windows" {
				return // the type check needs the go command, which Wine runs lack; Linux runs it
			}
			used := map[string]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && stdImports[id.Name] != "" {
						used[id.Name] = true
					}
				}
				return true
			})
			var imports strings.Builder
			for name := range used {
				fmt.Fprintf(&imports, "import %q\n", stdImports[name])
			}
			full := "package doc\n\n" + imports.String() + "\n" + b.body
			fset = token.NewFileSet()
			if f, err = parser.ParseFile(fset, b.where, full, 0); err != nil {
				t.Fatal(err)
			}
			conf := types.Config{Importer: importer.Default()}
			if _, err := conf.Check("doc", fset, []*ast.File{f}, nil); err != nil {
				t.Errorf("does not compile: %v\n%s", err, full)
			}
		})
	}
}

// toolchainLine is a line whose command is the go toolchain (after any
// VAR=value words): its subcommand, or "" for any other line.
func toolchainLine(line string) string {
	words := strings.Fields(line)
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" {
		return ""
	}
	return words[1]
}

// withoutComment is a shell line without its trailing comment (no block
// quotes a #).
func withoutComment(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// A go test line cannot run inside a test: CI must run it as written.
func TestDocTestCommandsAreWhatCIRuns(t *testing.T) {
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	var ciLines []string
	for _, l := range strings.Split(string(ci), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ciLines = append(ciLines, withoutComment(l))
		}
	}
	found := 0
	for _, b := range blocksOf(t, "sh") {
		for _, l := range strings.Split(b.body, "\n") {
			switch sub := toolchainLine(l); sub {
			case "":
			case "test":
				found++
				if !slices.Contains(ciLines, withoutComment(l)) {
					t.Errorf("%s: %q is not a command line of .ci/run, so nothing runs it as written", b.where, withoutComment(l))
				}
			case "build", "run":
				// run by TestDocShellBlocks
			default:
				t.Errorf("%s: go %s: neither run by the tests nor checked against CI", b.where, sub)
			}
		}
	}
	if found == 0 {
		t.Error("no go test line in any sh block: the README's test command is gone")
	}
}

// docRun is one run of a shell block: extra environment, files written
// into its directory first, and what its output must hold.
type docRun struct {
	name  string
	env   []string
	files map[string][]byte
	want  []string
}

// docFixtures set up what a block's prose says it needs, and say how the
// block is run. None is a stand-in: the agent, reports and signatures are
// the real ones.
var docFixtures = map[string]func(t *testing.T) []docRun{
	"":              func(*testing.T) []docRun { return []docRun{{name: "as written"}} },
	"signed-report": signedReportFixture,
	"signed-alarm":  signedAlarmFixture,
}

// blockWants is what a block's output must hold beyond exiting 0, by a
// line of the block.
var blockWants = map[string][]string{
	"./vipagent serve &": {"succeeded", "unchanged", "rm1-stopped"},
}

// signedReportFixture is a report the agent really sent: an agent with a
// report target fires an alarm, and the POST it makes is caught. The block
// must accept it as sent and reject it with its body changed.
func signedReportFixture(t *testing.T) []docRun {
	const secret = "report key 0123456789abcdef"
	type post struct {
		ts, sig, target string
		body            []byte
	}
	got := make(chan post, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		select {
		case got <- post{r.Header.Get("X-Vipagent-Timestamp"), r.Header.Get("X-Vipagent-Signature"), r.URL.RequestURI(), body.Bytes()}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	cfg, addr := agenttest.WriteConfig(t, e2eConfig+fmt.Sprintf("reports: [{name: oncall, url: %q, secret: %q}]\n", srv.URL+"/hooks/vipagent?team=voice", secret))
	agenttest.Start(t, binary, cfg, addr)
	if code, out, errOut := vipagent(t, "fire", "--config", cfg, "--condition", "RM1_Stopped"); code != 0 {
		t.Fatalf("fire: exit %d\n%s%s", code, out, errOut)
	}
	var p post
	select {
	case p = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the agent sent no report within 20s")
	}
	if p.sig == "" {
		t.Fatalf("the report is not signed: %+v", p)
	}
	env := []string{"TS=" + p.ts, "SIG=" + p.sig, "SECRET=" + secret, "PATH_AND_QUERY=" + p.target}
	tampered := bytes.Replace(p.body, []byte(`"succeeded"`), []byte(`"failed"`), 1)
	if bytes.Equal(tampered, p.body) {
		t.Fatalf("the report has no succeeded status to change:\n%s", p.body)
	}
	return []docRun{
		{name: "as sent", env: env, files: map[string][]byte{"body.json": p.body}, want: []string{"valid"}},
		{name: "tampered", env: env, files: map[string][]byte{"body.json": tampered}, want: []string{"REJECT"}},
	}
}

// signedAlarmFixture is an agent at the default address (127.0.0.1:8470)
// that accepts requests signed with the block's secret, and the alarm the
// block sends in body.json.
func signedAlarmFixture(t *testing.T) []docRun {
	const addr = "127.0.0.1:8470"
	if c, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		c.Body.Close()
		t.Fatalf("something answers at %s already: the block talks to the default address", addr)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vipagent.yaml")
	body := fmt.Sprintf(strings.Replace(e2eConfig, "log:", "auth: {webhook_secret: 's3cret webhook key'}\nlog:", 1), addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	agenttest.Start(t, binary, cfg, addr)
	return []docRun{{name: "signed alarm", files: map[string][]byte{"body.json": []byte(`{"condition": "RM1_Stopped"}`)},
		want: []string{`"rm1-stopped"`, `"succeeded"`}}}
}

// Every sh block runs as written and exits 0, as this user and, as root,
// as nobody.
func TestDocShellBlocks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the blocks are POSIX shell sessions; windows runs the end-to-end tests instead")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed for the blocks' go build and go run lines")
	}
	goEnv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command(goBin, "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		goEnv[k] = strings.TrimSpace(string(v))
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocksOf(t, "sh") {
		t.Run(b.where, func(t *testing.T) {
			fixture, ok := docFixtures[b.attr]
			if !ok {
				t.Fatalf("no fixture %q", b.attr)
			}
			var wants []string
			onlyToolchain := true
			for _, l := range strings.Split(b.body, "\n") {
				for line, w := range blockWants {
					if strings.HasPrefix(l, line) {
						wants = append(wants, w...)
					}
				}
				if withoutComment(l) != "" && toolchainLine(l) == "" {
					onlyToolchain = false
				}
			}
			for _, user := range []string{"this user", "nobody"} {
				t.Run(user, func(t *testing.T) {
					var asUser []string
					if user == "nobody" {
						if os.Geteuid() != 0 {
							t.Skip("this test runs as an ordinary user already (the subtest above); as root it also runs the blocks as nobody")
						}
						if onlyToolchain {
							t.Skip("as nobody the go toolchain cannot build: root's build and module caches are private to root and a cold build from the network is not a unit test; these lines run as root above")
						}
						setpriv, err := exec.LookPath("setpriv")
						if err != nil {
							t.Fatal("setpriv (util-linux) is needed to run the blocks as nobody")
						}
						asUser = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}
					}
					// Set up afresh for each user: a signed request
					// repeated is refused as a replay.
					for _, r := range fixture(t) {
						out := runShellBlock(t, b, r, asUser, root, goBin, goEnv)
						for _, w := range append(slices.Clone(wants), r.want...) {
							if !strings.Contains(out, w) {
								t.Errorf("%s (%s): the output has no %q:\n%s", b.where, r.name, w, out)
							}
						}
					}
				})
			}
		})
	}
}

// runShellBlock runs block b once, in a fresh directory holding the test's
// binary as ./vipagent. As this user the block's go build and go run lines
// run for real in a view of this module; as another user they are left
// out and the test's binary stands in for what they build.
func runShellBlock(t *testing.T, b docBlock, r docRun, asUser []string, root, goBin string, goEnv map[string]string) string {
	t.Helper()
	var script strings.Builder
	// A block that fails half-way leaves no agent behind.
	script.WriteString("set -eu\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
	for _, line := range strings.Split(b.body, "\n") {
		switch toolchainLine(line) {
		case "test":
			script.WriteString(": checked against .ci/run: " + withoutComment(line) + "\n")
			continue
		case "build", "run":
			if len(asUser) > 0 {
				script.WriteString(": as root only: " + withoutComment(line) + "\n")
				continue
			}
		}
		script.WriteString(line + "\n")
		if strings.HasPrefix(withoutComment(line), "./vipagent serve") && strings.HasSuffix(withoutComment(line), "&") {
			// The reader waits a moment; the test waits for the agent to
			// answer, bounded.
			script.WriteString("for i in $(seq 100); do ./vipagent vip status >/dev/null 2>&1 && break; sleep 0.05; done\n")
		}
	}
	script.WriteString("wait\n")

	// Not t.TempDir: its parent is private to this user, and nobody must
	// reach the directory.
	dir, err := os.MkdirTemp("", "vipagent-doc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, binary, filepath.Join(dir, "vipagent"), 0o755)
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range r.files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"HOME=" + home, "LC_ALL=C"}
	path := dir + ":/usr/bin:/bin:/usr/sbin:/sbin"
	if len(asUser) == 0 {
		// A view of this module: the blocks' go lines name its packages
		// relative to the repository's root.
		for _, f := range []string{"go.mod", "go.sum", "agent", "reactions", "templates"} {
			if err := os.Symlink(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		path = dir + ":" + filepath.Dir(goBin) + ":/usr/bin:/bin:/usr/sbin:/sbin"
		env = append(env, "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-buildvcs=false")
		for k, v := range goEnv {
			env = append(env, k+"="+v)
		}
	} else if err := exec.Command("chown", "-R", "65534:65534", dir).Run(); err != nil {
		t.Fatal(err)
	}
	env = append(env, "PATH="+path)
	env = append(env, r.env...)
	argv := append(slices.Clone(asUser), "bash", "-c", script.String())
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		err = fmt.Errorf("still running after 5m: %w", <-done)
	}
	if err != nil {
		t.Fatalf("%s (%s) failed: %v\nscript:\n%s\noutput:\n%s", b.where, r.name, err, script.String(), out.String())
	}
	return out.String()
}

// The worked example of a signature in the security topic is what the
// sign package computes.
func TestDocSignatureWorkedExample(t *testing.T) {
	b, err := os.ReadFile("../templates/help/security.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(b)), " ")
	m := regexp.MustCompile("with secret `([^`]+)`, timestamp `(\\d+)` and body `([^`]+)` sent to `POST ([^`]+)`.*?the header is `(sha256=[0-9a-f]+)`").FindStringSubmatch(text)
	if m == nil {
		t.Fatal("security.md has no worked example of a signature (secret, timestamp, body, target, header)")
	}
	if got := sign.Sign([]byte(m[1]), m[2], http.MethodPost, m[4], []byte(m[3])); got != m[5] {
		t.Errorf("the worked example says %s; sign.Sign gives %s", m[5], got)
	}
}
