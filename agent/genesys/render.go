package genesys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/templates"
)

// Wrapper script names (without extension), per Genesys variant.
const (
	TakeoverWrapper     = "IPTakeOver"
	TakeoverInitWrapper = "INIT_IPTakeOver"
	NLBWrapper          = "NLB"
	NLBInitWrapper      = "INIT"
)

// wrappers lists the four wrapper scripts for the RM hosts' platform: the
// variant in use first (its failoverscript, then its INIT script), then the
// other variant's, for sites that keep their failoverscript's name. Each
// passes its arguments on after the failover command, so RM's "enable 2"
// and whatever RM adds reach vipagent unchanged.
func wrappers(g config.Genesys, nlb bool) []Wrapper {
	ext, twin := ".sh", "Linux twin of Genesys' "
	if g.Windows() {
		ext, twin = ".bat", "Drop-in for Genesys' "
	}
	takeover := []Wrapper{
		{Name: TakeoverWrapper, Use: "IPTakeOver.bat: RM's [cluster] failoverscript with IP address takeover. " +
			"RM runs it with enable or disable and a member ID; vipagent makes that member the only holder of the VIP, " +
			"or releases it here."},
		{Name: TakeoverInitWrapper, Use: "INIT_IPTakeOver.bat: run it by hand on both RM hosts before the first " +
			"start of the pair; it removes the VIP from this host."},
	}
	nlbs := []Wrapper{
		{Name: NLBWrapper, Use: "NLB.bat: RM's [cluster] failoverscript with Windows NLB. RM runs it with enable or " +
			"disable and a member ID; `NLB.bat enable X` by hand makes member X the only host taking the VIP's traffic."},
		{Name: NLBInitWrapper, Use: "INIT.bat: run it by hand on both RM hosts before the first start of the pair " +
			"(then NLB.bat enable X on one); it disables the VIP on this host."},
	}
	ws := append(takeover, nlbs...)
	if nlb {
		ws = append(nlbs, takeover...)
	}
	for i := range ws {
		w := &ws[i]
		w.Name += ext
		w.Path = g.HostPath(w.Name)
		w.Use = twin + w.Use
		args := ""
		if w.Name == TakeoverInitWrapper+ext || w.Name == NLBInitWrapper+ext {
			args = "disable "
		}
		w.Command = wrapperCommand(g, args)
	}
	return ws
}

// wrapperCommand is the one line a wrapper runs: the binary next to the
// script with the config, "failover", fixed arguments, then the script's
// own. Every path is quoted for the script's interpreter, spaces included;
// the binary and a relative config are found next to the script, so the
// install directory can move.
func wrapperCommand(g config.Genesys, args string) string {
	rel, abs := g.ConfigFile, ""
	if rel == "" {
		rel = "vipagent.yaml"
	}
	if p := g.ConfigPath(); p != g.HostPath(rel) {
		rel, abs = "", p
	}
	if g.Windows() {
		cfg := batQuote(abs)
		if abs == "" {
			cfg = batQuote("%~dp0", rel)
		}
		return batQuote("%~dp0", g.ExecutableName()) + " failover --config " + cfg + " " + args + "%*"
	}
	cfg := shQuote(abs)
	if abs == "" {
		cfg = shBeside(rel)
	}
	return "exec " + shBeside(g.ExecutableName()) + " failover --config " + cfg + " " + args + `"$@"`
}

// batQuote quotes for cmd.exe: inside double quotes only % (and ! with
// delayed expansion, which the wrappers turn off) is special, and the
// config refuses double quotes. prefix is left as is (e.g. %~dp0).
func batQuote(prefix string, s ...string) string {
	return `"` + prefix + strings.ReplaceAll(strings.Join(s, ""), "%", "%%") + `"`
}

// shBeside is the sh word for the file name beside the running script.
func shBeside(name string) string {
	if !strings.ContainsAny(name, "$`\\\"") {
		return `"$(dirname "$0")/` + name + `"`
	}
	return `"$(dirname "$0")"/` + shQuote(name)
}

// shQuote quotes s as one sh word: in double quotes when nothing in it is
// special there, else in single quotes.
func shQuote(s string) string {
	if !strings.ContainsAny(s, "$`\\\"") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Generate builds the objects and renders them: Build then Render. Use
// Build and Render separately to see Objects.Warnings.
func Generate(cfg *config.Config) (map[string][]byte, error) {
	o, err := Build(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate genesys objects: %w", err)
	}
	return Render(o)
}

// Render renders every artefact of o: GUIDE.md, genesys-objects.json,
// genesys-objects.yaml, one description per Application Template and the
// wrapper scripts (CRLF line endings for .bat). Keys are file names.
func Render(o Objects) (map[string][]byte, error) {
	tmpl, err := template.New("genesys").Funcs(template.FuncMap{
		"xml": xmlEscape, "cell": markdownCell, "wrap": wrapText,
		"base": hostBase, "q": commandWord, "psq": psQuote,
	}).ParseFS(templates.Genesys, "genesys/*.tmpl", "wrappers/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse genesys templates: %w", err)
	}
	files := map[string][]byte{}
	render := func(name, tmplName string, data any) error {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, tmplName, data); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		files[name] = b.Bytes()
		return nil
	}
	if err := render(GuideFile, "GUIDE.md.tmpl", o); err != nil {
		return nil, err
	}
	for _, t := range o.Templates {
		var apps []Application
		for _, a := range o.Applications {
			if a.Template == t.Name {
				apps = append(apps, a)
			}
		}
		data := struct {
			Objects
			Template AppTemplate
			Apps     []Application
		}{o, t, apps}
		if err := render(t.File, "template.xml.tmpl", data); err != nil {
			return nil, err
		}
	}
	for _, w := range o.Wrappers {
		if strings.HasSuffix(w.Name, ".bat") {
			if err := render(w.Name, "wrapper.bat.tmpl", w); err != nil {
				return nil, err
			}
			files[w.Name] = bytes.ReplaceAll(files[w.Name], []byte("\n"), []byte("\r\n"))
		} else if err := render(w.Name, "wrapper.sh.tmpl", w); err != nil {
			return nil, err
		}
	}
	if err := encodeObjects(o, files); err != nil {
		return nil, err
	}
	return files, nil
}

// encodeObjects adds the JSON and YAML forms of o to files.
func encodeObjects(o Objects, files map[string][]byte) error {
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		return fmt.Errorf("encode %s: %w", JSONFile, err)
	}
	files[JSONFile] = js.Bytes()
	var ys bytes.Buffer
	ys.WriteString("# Genesys objects for vipagent, generated by `" + Generator + "`.\n" +
		"# Follow GUIDE.md to create them; verify the log event IDs against your Log Events Help.\n")
	yenc := yaml.NewEncoder(&ys)
	yenc.SetIndent(2)
	if err := yenc.Encode(o); err != nil {
		return fmt.Errorf("encode %s: %w", YAMLFile, err)
	}
	if err := yenc.Close(); err != nil {
		return fmt.Errorf("encode %s: %w", YAMLFile, err)
	}
	files[YAMLFile] = ys.Bytes()
	return nil
}

// hostBase is the last element of a path on the RM hosts, whichever their
// separator.
func hostBase(p string) string { return p[strings.LastIndexAny(p, `/\`)+1:] }

// commandWord quotes s for a command line typed in cmd.exe (windows) or sh,
// only when it needs it.
func commandWord(windows bool, s string) string {
	switch {
	case windows && strings.ContainsAny(s, " &()^%!"):
		return `"` + s + `"`
	case !windows && strings.ContainsAny(s, " \t'\"$`\\;&|<>()*?[]#~"):
		return shQuote(s)
	}
	return s
}

// psQuote quotes s as a PowerShell literal string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// wrapText breaks s into lines of at most 72 characters, at spaces.
func wrapText(s string) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > 72 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// markdownCell keeps a value from breaking a Markdown table row.
func markdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
