package genesys

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// netshYAML is a Windows pair with the VIP on netsh: the case the Genesys
// IP takeover procedure describes.
const netshYAML = `
node: rm1
listen: 127.0.0.1:8470
data_dir: vipagent-data
nodes:
  rm1:
    url: http://198.51.100.11:8470
    member_id: 1
    host: rm1-host
    rm_application: RM_1
    rm_address: 198.51.100.11:5060
  rm2:
    url: http://198.51.100.12:8470
    member_id: 2
    host: rm2-host
    rm_application: RM_2
    rm_address: 198.51.100.12:5060
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: Ethernet 2
    backend: netsh
    owner: rm2
reactions:
  - name: rm-stopped
    match:
      condition: ["RM?_Stopped", "RM?_Unexpected_Stop"]
    steps:
      - disable: rm-vip
`

// nlbYAML is a Windows pair on NLB, installed in a directory with a space,
// one RM without rm_address and a reaction missing for rm2.
const nlbYAML = `
node: rm2
listen: 0.0.0.0:9470
insecure: true
data_dir: vipagent-data
nodes:
  rm1:
    url: https://198.51.100.21:9470
    member_id: 1
    host: RMHOST1
    rm_application: GVP_RM_A
    rm_address: 198.51.100.21:5060
  rm2:
    member_id: 2
    host: RMHOST2
    rm_application: GVP_RM_B
vips:
  sip-vip:
    address: 192.0.2.200/24
    backend: nlb
failover:
  vips: [sip-vip]
genesys:
  install_dir: 'C:\Program Files\vipagent'
  severity: Major
  cancel_timeout: 30m
  stopped_detect: 00-05091
reactions:
  - name: rm1-stopped
    match:
      condition: [RM1_Stopped, RM1_Unexpected_Stop]
    steps:
      - disable: sip-vip
        on: rm1
`

// linuxYAML is a Linux pair on netlink.
const linuxYAML = `
node: rm1
data_dir: /var/lib/vipagent
nodes:
  rm1:
    member_id: 1
    host: lx-rm1
    rm_application: RM_LX1
    rm_address: "[2001:db8::11]:5060"
  rm2:
    url: http://198.51.100.32:8470
    member_id: 2
    host: lx-rm2
    rm_application: RM_LX2
    rm_address: 198.51.100.32:5060
vips:
  rm-vip:
    address: 192.0.2.50/24
    interface: eth0
    backend: netlink
genesys:
  install_dir: /opt/vipagent
  config_file: /etc/vipagent/vipagent.yaml
reactions:
  - name: all
    match:
      condition: "*"
    steps:
      - disable: rm-vip
`

var cases = []struct{ name, yaml string }{
	{"netsh", netshYAML},
	{"nlb", nlbYAML},
	{"linux", linuxYAML},
}

func load(t *testing.T, data string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	if err := c.Validate(func(string) string { return "" }); err != nil {
		t.Fatalf("validate config: %v", err)
	}
	return c
}

func TestGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Generate(load(t, tc.yaml))
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := Write(dir, files); err != nil {
					t.Fatal(err)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("read golden dir (run go test ./agent/genesys -update): %v", err)
			}
			var golden []string
			for _, e := range entries {
				golden = append(golden, e.Name())
			}
			if diff := cmp.Diff(golden, config.SortedKeys(files)); diff != "" {
				t.Errorf("generated file set differs from %s (-want +got):\n%s", dir, diff)
			}
			for _, name := range config.SortedKeys(files) {
				want, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("read golden %s: %v", name, err)
					continue
				}
				if !bytes.Equal(want, files[name]) {
					t.Errorf("%s differs from %s; run go test ./agent/genesys -update and review the diff", name, filepath.Join(dir, name))
				}
			}
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, tc := range cases {
		a, err := Generate(load(t, tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			b, err := Generate(load(t, tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("%s: second run differs (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

// The JSON and YAML files are valid and hold exactly the objects Build returns.
func TestObjectFilesRoundTrip(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := load(t, tc.yaml)
			want, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			files, err := Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(files[JSONFile]) {
				t.Fatalf("%s is not valid JSON", JSONFile)
			}
			var fromJSON Objects
			dec := json.NewDecoder(bytes.NewReader(files[JSONFile]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&fromJSON); err != nil {
				t.Fatalf("decode %s: %v", JSONFile, err)
			}
			if diff := cmp.Diff(want, fromJSON); diff != "" {
				t.Errorf("%s (-want +got):\n%s", JSONFile, diff)
			}
			var fromYAML Objects
			ydec := yaml.NewDecoder(bytes.NewReader(files[YAMLFile]))
			ydec.KnownFields(true)
			if err := ydec.Decode(&fromYAML); err != nil {
				t.Fatalf("decode %s: %v", YAMLFile, err)
			}
			if diff := cmp.Diff(want, fromYAML); diff != "" {
				t.Errorf("%s (-want +got):\n%s", YAMLFile, diff)
			}
			for _, tm := range want.Templates {
				d := xml.NewDecoder(bytes.NewReader(files[tm.File]))
				for {
					_, err := d.Token()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatalf("%s is not well-formed XML: %v", tm.File, err)
					}
				}
			}
		})
	}
}

func TestAutoRestart(t *testing.T) {
	o, err := Build(load(t, netshYAML))
	if err != nil {
		t.Fatal(err)
	}
	type app struct {
		Name, Role, Host string
		AutoRestart      bool
	}
	var got []app
	for _, a := range o.Applications {
		got = append(got, app{a.Name, a.Role, a.Host, a.AutoRestart})
	}
	want := []app{
		{"VIPAgent_rm1", RoleAgent, "rm1-host", true},
		{"VIPAgent_RM1_Stopped", RoleReaction, "rm1-host", false},
		{"VIPAgent_RM1_Unexpected_Stop", RoleReaction, "rm1-host", false},
		{"VIPAgent_rm2", RoleAgent, "rm2-host", true},
		{"VIPAgent_RM2_Stopped", RoleReaction, "rm2-host", false},
		{"VIPAgent_RM2_Unexpected_Stop", RoleReaction, "rm2-host", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
	for _, tm := range o.Templates {
		if wantOn := tm.Name == AgentTemplateName("VIPAgent"); tm.AutoRestart != wantOn {
			t.Errorf("template %s: auto_restart = %v, want %v", tm.Name, tm.AutoRestart, wantOn)
		}
	}
	// The same holds in the file a person imports from.
	files, err := Generate(load(t, netshYAML))
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Objects
	if err := json.Unmarshal(files[JSONFile], &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, a := range fromJSON.Applications {
		if a.AutoRestart != (a.Role == RoleAgent) {
			t.Errorf("%s in %s: auto_restart = %v for role %s", a.Name, JSONFile, a.AutoRestart, a.Role)
		}
	}
}

// The reaction applications fire exactly the conditions the Alarm
// Conditions are named after, and those are the built-in reactions' names.
func TestConditionsWireUp(t *testing.T) {
	stopped, unexpected := ConditionNames("rm1")
	def, err := config.Parse(config.DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, r := range def.Reactions {
		defaults = append(defaults, r.Match.Condition...)
	}
	if diff := cmp.Diff([]string{"RM1_Stopped", "RM1_Unexpected_Stop"}, []string{stopped, unexpected}); diff != "" {
		t.Errorf("ConditionNames(rm1) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(defaults, []string{stopped, unexpected}); diff != "" {
		t.Errorf("names differ from the built-in reactions (-want +got):\n%s", diff)
	}

	cfg := load(t, netshYAML)
	o, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]Application{}
	for _, a := range o.Applications {
		apps[a.Name] = a
	}
	scripts := map[string]Script{}
	for _, s := range o.Scripts {
		scripts[s.Name] = s
	}
	for _, c := range o.AlarmConditions {
		if len(c.ReactionScripts) != 1 {
			t.Fatalf("%s: reaction scripts %v, want one", c.Name, c.ReactionScripts)
		}
		s, ok := scripts[c.ReactionScripts[0]]
		if !ok {
			t.Fatalf("%s: reaction script %s is not generated", c.Name, c.ReactionScripts[0])
		}
		a, ok := apps[s.Application]
		if !ok {
			t.Fatalf("script %s starts %s, which is not generated", s.Name, s.Application)
		}
		wantArgs := "fire --condition " + c.Name + ` --config C:\GCTI\vipagent\vipagent.yaml`
		if a.CommandLineArguments != wantArgs || a.AutoRestart || a.Host != cfg.Nodes[c.Node].Host {
			t.Errorf("%s: reaction app %+v, want arguments %q, auto restart off, on the RM's host", c.Name, a, wantArgs)
		}
	}
}

func TestRMOptions(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		node string
		want []string // name=value
	}{
		{"netsh", netshYAML, "rm2", []string{
			"ha-mode=active-standby", "hotstandby=true", "mymemberid=2", "members=1 2",
			"member.1=198.51.100.11:9801", "member.2=198.51.100.12:9801", "virtual-ip=192.0.2.100",
			`failoverscript=C:\GCTI\vipagent\IPTakeOver.bat`, "heartbeattimer=8000",
		}},
		{"nlb", nlbYAML, "rm1", []string{
			"ha-mode=active-standby", "hotstandby=true", "mymemberid=1", "members=1 2",
			"member.1=198.51.100.21:9801", "member.2=", "virtual-ip=192.0.2.200",
			`failoverscript=C:\Program Files\vipagent\NLB.bat`, "heartbeattimer=2000",
		}},
		{"linux", linuxYAML, "rm1", []string{
			"ha-mode=active-standby", "hotstandby=true", "mymemberid=1", "members=1 2",
			"member.1=[2001:db8::11]:9801", "member.2=198.51.100.32:9801", "virtual-ip=192.0.2.50",
			"failoverscript=/opt/vipagent/IPTakeOver.sh", "heartbeattimer=8000",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Build(load(t, tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(o.ResourceManagers, func(r ResourceManager) bool { return r.Node == tc.node })
			if i < 0 {
				t.Fatalf("no RM options for %s", tc.node)
			}
			var got []string
			for _, opt := range o.ResourceManagers[i].Options {
				got = append(got, opt.Name+"="+opt.Value)
				if opt.Note == "" {
					t.Errorf("option %s has no note", opt.Name)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("[cluster] options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	o, err := Build(load(t, nlbYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"no reaction rule matches condition RM2_Stopped: the alarm would be recorded but nothing done.",
		"no reaction rule matches condition RM2_Unexpected_Stop: the alarm would be recorded but nothing done.",
	}
	if diff := cmp.Diff(want, o.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	o, err = Build(load(t, linuxYAML))
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"the applications use /etc/vipagent/vipagent.yaml but the wrapper scripts (failoverscript) read " +
		"/opt/vipagent/vipagent.yaml: keep one config, e.g. by linking one to the other."}
	if diff := cmp.Diff(want, o.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	o, err = Build(load(t, netshYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Warnings) != 0 {
		t.Errorf("netsh config: unexpected warnings %q", o.Warnings)
	}
}

func TestBuildRefusesIncompleteConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *config.Config)
		want []string
	}{
		{"node without rm_application", func(c *config.Config) {
			n := c.Nodes["rm1"]
			n.RMApplication = ""
			c.Nodes["rm1"] = n
		}, []string{
			"nodes.rm1.rm_application: required to generate Genesys objects (the Genesys application name of the node's RM)",
		}},
		{"everything missing", func(c *config.Config) {
			c.Nodes["rm1"] = config.Node{}
			c.VIPs = nil
		}, []string{
			"nodes.rm1.rm_application: required to generate Genesys objects (the Genesys application name of the node's RM)",
			"nodes.rm1.host: required to generate Genesys objects (the Genesys Host object of the node)",
			"nodes.rm1.member_id: required to generate Genesys objects (the RM's mymemberid, 1 or 2)",
			"vips: at least one VIP is required to generate Genesys objects",
		}},
		{"same member and condition names", func(c *config.Config) {
			c.Nodes["rm1"] = config.Node{MemberID: 1, Host: "h1", RMApplication: "RM_1"}
			c.Nodes["RM1"] = config.Node{MemberID: 1, Host: "h2", RMApplication: "RM_2", URL: "http://198.51.100.2:8470"}
		}, []string{
			"nodes.rm1.member_id: 1 is also the member_id of RM1",
			"nodes.rm1: gives the same alarm condition names as node RM1 (names are upper-cased)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse(config.DefaultYAML())
			if err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				tc.edit(c)
			}
			_, err = Build(c)
			var probs config.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Build: %v, want config.Problems", err)
			}
			if !errors.Is(err, reactions.ErrInvalid) {
				t.Errorf("Build error does not wrap ErrInvalid: %v", err)
			}
			if diff := cmp.Diff(tc.want, []string(probs)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if _, err := Generate(c); !errors.Is(err, reactions.ErrInvalid) {
				t.Errorf("Generate: %v, want the same problems", err)
			}
		})
	}
}

func TestJoinArgsQuotesSpaces(t *testing.T) {
	got := joinArgs("serve", "--config", `C:\Program Files\vipagent\vipagent.yaml`)
	want := `serve --config "C:\Program Files\vipagent\vipagent.yaml"`
	if got != want {
		t.Errorf("joinArgs = %q, want %q", got, want)
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "genesys")
	files := map[string][]byte{"GUIDE.md": []byte("new guide\n"), "a.json": []byte("{}\n")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "GUIDE.md"), []byte("old guide, longer than the new one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, files); err != nil {
		t.Fatalf("Write: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = b
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		// Windows has no permission bits to check: Go reports 0666 for
		// every file that is not read-only.
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", e.Name(), info.Mode().Perm())
		}
	}
	if diff := cmp.Diff(files, got); diff != "" {
		t.Errorf("directory content, temporary files included (-want +got):\n%s", diff)
	}
}

func TestWriteRefusesPaths(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../escape", "sub/file", `sub\file`, "/abs"} {
		dir := t.TempDir()
		err := Write(dir, map[string][]byte{"ok.txt": []byte("x"), name: []byte("x")})
		if err == nil {
			t.Errorf("Write with name %q: no error", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("Write with name %q wrote %d files before refusing", name, len(entries))
		}
	}
}

func TestWriteReportsUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(file, "sub"), map[string][]byte{"a": nil}); err == nil {
		t.Error("Write under a regular file: no error")
	}
}

// scriptsDir is the repository's scripts/ directory, which holds the
// wrappers the generated objects name.
func scriptsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every wrapper the generated objects name exists in scripts/, with the
// command the guide says it runs, and the right line endings.
func TestWrappersExistAndMatchGuide(t *testing.T) {
	for _, tc := range cases {
		o, err := Build(load(t, tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range o.Wrappers {
			b, err := os.ReadFile(filepath.Join(scriptsDir(t), w.Name))
			if err != nil {
				t.Errorf("%s: wrapper %s: %v", tc.name, w.Name, err)
				continue
			}
			if !bytes.Contains(b, []byte(w.Command+"\n")) && !bytes.Contains(b, []byte(w.Command+"\r\n")) {
				t.Errorf("%s does not run %q", w.Name, w.Command)
			}
			lines := strings.SplitAfter(string(b), "\n")
			for i, l := range lines[:len(lines)-1] {
				crlf := strings.HasSuffix(l, "\r\n")
				if strings.HasSuffix(w.Name, ".bat") && !crlf {
					t.Errorf("%s line %d does not end in CRLF", w.Name, i+1)
				}
				if strings.HasSuffix(w.Name, ".sh") && crlf {
					t.Errorf("%s line %d ends in CRLF", w.Name, i+1)
				}
			}
		}
	}
}

// The shell wrappers only hand their arguments to the binary next to them,
// with the config next to them, and return its exit status.
func TestShellWrappersRunTheBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the .sh wrappers are for Linux RM hosts: nothing to run on windows")
	}
	tests := []struct {
		script string
		args   []string
		want   []string
	}{
		{"IPTakeOver.sh", []string{"enable", "1"}, []string{"failover", "--config", "DIR/vipagent.yaml", "enable", "1"}},
		{"NLB.sh", []string{"disable", "2"}, []string{"failover", "--config", "DIR/vipagent.yaml", "disable", "2"}},
		{"INIT_IPTakeOver.sh", nil, []string{"failover", "--config", "DIR/vipagent.yaml", "disable"}},
		{"INIT.sh", nil, []string{"failover", "--config", "DIR/vipagent.yaml", "disable"}},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			// A directory with a space: the wrappers must quote their paths.
			dir := filepath.Join(t.TempDir(), "install dir")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(filepath.Join(scriptsDir(t), tc.script))
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(dir, tc.script)
			if err := os.WriteFile(script, src, 0o755); err != nil {
				t.Fatal(err)
			}
			// The stand-in binary records its argv, one per line, and fails
			// with a distinctive status.
			fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\nexit 7\n"
			if err := os.WriteFile(filepath.Join(dir, "vipagent"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			err = exec.Command(script, tc.args...).Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 7 {
				t.Fatalf("run %s: %v, want exit status 7 from the binary", tc.script, err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "argv"))
			if err != nil {
				t.Fatalf("the binary was not run: %v", err)
			}
			got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			want := slices.Clone(tc.want)
			for i := range want {
				want[i] = strings.ReplaceAll(want[i], "DIR", dir)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}
