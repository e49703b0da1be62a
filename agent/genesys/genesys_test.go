package genesys

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"maps"
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
// IP takeover procedure describes, installed in a directory with spaces
// under another binary name.
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
    token: file:C:\GCTI\secrets\rm1.token
    nics: [00-0f-1f-6d-eb-ca]
  rm2:
    url: http://198.51.100.12:8470
    member_id: 2
    host: rm2-host
    rm_application: RM_2
    rm_address: 198.51.100.12:5060
    token: file:C:\GCTI\secrets\rm2.token
    nics: ["00:0F:1F:6D:EB:CB", 00-0F-1F-6D-EB-CC]
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: Ethernet 2
    backend: netsh
    owner: rm2
genesys:
  install_dir: 'C:\Program Files\GCTI\vip agent'
  executable: vipagent-gvp.exe
reactions:
  - name: rm-stopped
    match:
      condition: ["RM?_Stopped", "RM?_Unexpected_Stop"]
    steps:
      - disable: rm-vip
`

// nlbYAML is a Windows pair on NLB, installed in a directory with a space
// under another binary name, one RM without rm_address or nics, a peer
// token from the environment and a reaction missing for rm2.
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
    token: env:RM1_TOKEN
    nics: [00-15-5D-01-02-03]
  rm2:
    member_id: 2
    host: RMHOST2
    rm_application: GVP_RM_B
vips:
  sip-vip:
    address: 192.0.2.200/24
    interface: SIP VIP
    backend: nlb
failover:
  vips: [sip-vip]
genesys:
  install_dir: 'C:\Program Files\vipagent'
  executable: vipagent-rm.exe
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

// linuxYAML is a Linux pair on netlink, installed in a directory with a
// space under another binary name, its config elsewhere.
const linuxYAML = `
node: rm1
data_dir: /var/lib/vipagent
nodes:
  rm1:
    member_id: 1
    host: lx-rm1
    rm_application: RM_LX1
    rm_address: "[2001:db8::11]:5060"
    nics: ["52:54:00:12:34:56"]
  rm2:
    url: http://198.51.100.32:8470
    member_id: 2
    host: lx-rm2
    rm_application: RM_LX2
    rm_address: 198.51.100.32:5060
    nics: ["52:54:00:AB:CD:EF"]
vips:
  rm-vip:
    address: 192.0.2.50/24
    interface: eth0
    backend: netlink
genesys:
  install_dir: /opt/genesys vip
  executable: vipagentd
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
	{"default", windowsDefaultYAML},
}

// windowsDefaultYAML is the built-in config with the Windows install_dir,
// so that the "default" goldens are the same whichever OS runs the test
// (install_dir's default is the generating platform's own).
var windowsDefaultYAML = string(config.DefaultYAML()) + "genesys: {install_dir: 'C:\\GCTI\\vipagent'}\n"

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
			if diff := cmp.Diff(golden, slices.Sorted(maps.Keys(files))); diff != "" {
				t.Errorf("generated file set differs from %s (-want +got):\n%s", dir, diff)
			}
			for _, name := range slices.Sorted(maps.Keys(files)) {
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
	stopped2, unexpected2 := ConditionNames("rm2")
	if diff := cmp.Diff(defaults, []string{stopped, unexpected, stopped2, unexpected2}); diff != "" {
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
		wantArgs := "fire --condition " + c.Name + ` --config "C:\Program Files\GCTI\vip agent\vipagent.yaml"`
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
		want []string // section.name=value
	}{
		{"netsh", netshYAML, "rm2", []string{
			"cluster.ha-mode=active-standby", "cluster.hotstandby=true", "cluster.mymemberid=2", "cluster.members=1 2",
			"cluster.member.1=198.51.100.11:9801", "cluster.member.2=198.51.100.12:9801", "cluster.virtual-ip=192.0.2.100",
			`cluster.failoverscript=C:\Program Files\GCTI\vip agent\IPTakeOver.bat`, "cluster.heartbeattimer=8000",
			"gvp.nic.eth0=00-0F-1F-6D-EB-CB", "gvp.nic.eth1=00-0F-1F-6D-EB-CC", "gvp.nics=0 1",
		}},
		{"nlb with nics", nlbYAML, "rm1", []string{
			"cluster.ha-mode=active-standby", "cluster.hotstandby=true", "cluster.mymemberid=1", "cluster.members=1 2",
			"cluster.member.1=198.51.100.21:9801", "cluster.member.2=", "cluster.virtual-ip=192.0.2.200",
			`cluster.failoverscript=C:\Program Files\vipagent\NLB.bat`, "cluster.heartbeattimer=2000",
			"gvp.nic.eth0=00-15-5D-01-02-03", "gvp.nics=0",
		}},
		{"nlb without nics: no [gvp]", nlbYAML, "rm2", []string{
			"cluster.ha-mode=active-standby", "cluster.hotstandby=true", "cluster.mymemberid=2", "cluster.members=1 2",
			"cluster.member.1=198.51.100.21:9801", "cluster.member.2=", "cluster.virtual-ip=192.0.2.200",
			`cluster.failoverscript=C:\Program Files\vipagent\NLB.bat`, "cluster.heartbeattimer=2000",
		}},
		{"linux", linuxYAML, "rm1", []string{
			"cluster.ha-mode=active-standby", "cluster.hotstandby=true", "cluster.mymemberid=1", "cluster.members=1 2",
			"cluster.member.1=[2001:db8::11]:9801", "cluster.member.2=198.51.100.32:9801", "cluster.virtual-ip=192.0.2.50",
			"cluster.failoverscript=/opt/genesys vip/IPTakeOver.sh", "cluster.heartbeattimer=8000",
			"gvp.nic.eth0=52:54:00:12:34:56", "gvp.nics=0",
		}},
		{"default: fake, MAC by hand", windowsDefaultYAML, "rm2", []string{
			"cluster.ha-mode=active-standby", "cluster.hotstandby=true", "cluster.mymemberid=2", "cluster.members=1 2",
			"cluster.member.1=", "cluster.member.2=", "cluster.virtual-ip=192.0.2.100",
			`cluster.failoverscript=C:\GCTI\vipagent\IPTakeOver.bat`, "cluster.heartbeattimer=8000",
			"gvp.nic.eth0=", "gvp.nics=0",
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
			for _, sec := range o.ResourceManagers[i].Sections {
				for _, opt := range sec.Options {
					got = append(got, sec.Name+"."+opt.Name+"="+opt.Value)
					if opt.Note == "" {
						t.Errorf("option %s has no note", opt.Name)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RM options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	oneMember := strings.Replace(linuxYAML, "  rm2:\n    url: http://198.51.100.32:8470\n", "  rmx:\n    url: http://198.51.100.32:8470\n", 1)
	oneMember = oneMember[:strings.Index(oneMember, "  rmx:")] + oneMember[strings.Index(oneMember, "vips:"):]
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"netsh", netshYAML, nil},
		{"nlb", nlbYAML, []string{
			"env: references in nodes.rm1.token: RM runs failoverscript in its own environment, which may lack " +
				"LCA's variables; on RM hosts prefer file:PATH.",
			"no reaction rule matches condition RM2_Stopped: the alarm would be recorded but nothing done.",
			"no reaction rule matches condition RM2_Unexpected_Stop: the alarm would be recorded but nothing done.",
		}},
		{"linux", linuxYAML, nil},
		{"default", string(config.DefaultYAML()), []string{
			"vips.rm-vip uses the fake backend: nothing moves on a real host.",
		}},
		{"three members", strings.Replace(linuxYAML, "vips:", "  rm3: {member_id: 3, host: lx-rm3, rm_application: RM_LX3, nics: [\"52:54:00:12:34:57\"]}\nvips:", 1), []string{
			"3 nodes are configured (rm1, rm2, rm3): an RM HA pair has two members; Genesys' procedure " +
				"configures members 1 2, and NLB.bat and IPTakeOver.bat move the VIP between two hosts.",
		}},
		{"one member", oneMember, []string{
			"only node rm1 is configured: RM's members lists one member and no other RM can take the VIP over; " +
				"add the other RM as a second node, with its own member_id, to describe the pair.",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Build(load(t, tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, o.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRefusesIncompleteConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		edit func(c *config.Config)
		want []string
	}{
		{"node without rm_application", "", func(c *config.Config) {
			n := c.Nodes["rm1"]
			n.RMApplication = ""
			c.Nodes["rm1"] = n
		}, []string{
			"nodes.rm1.rm_application: required to generate Genesys objects (the Genesys application name of the node's RM)",
		}},
		{"everything missing", "", func(c *config.Config) {
			c.Nodes["rm1"] = config.Node{}
			c.VIPs = nil
		}, []string{
			"vips: at least one VIP is required to generate Genesys objects",
			"nodes.rm1.rm_application: required to generate Genesys objects (the Genesys application name of the node's RM)",
			"nodes.rm1.host: required to generate Genesys objects (the Genesys Host object of the node)",
			"nodes.rm1.member_id: required to generate Genesys objects (the RM's mymemberid, 1 or 2)",
		}},
		{"no nodes", "", func(c *config.Config) { c.Nodes = nil }, []string{
			"nodes: at least one node is required to generate Genesys objects",
		}},
		{"same condition names", "", func(c *config.Config) {
			c.Nodes["RM1"] = config.Node{MemberID: 3, Host: "h3", RMApplication: "RM_3"}
		}, []string{
			"nodes.rm1: gives the same alarm condition names as node RM1 (names are upper-cased)",
		}},
		{"takeover without MAC, windows", netshYAML, func(c *config.Config) {
			n := c.Nodes["rm2"]
			n.NICs = nil
			c.Nodes["rm2"] = n
		}, []string{
			"nodes.rm2.nics: required for IP address takeover (the netsh backend): the MAC of the NIC the VIP's " +
				"interface maps to, as `ipconfig /all` (Physical Address) prints it on rm2, e.g. nics: [00-0F-1F-6D-EB-CA]; " +
				"it becomes the RM's [gvp] nic.eth0",
		}},
		{"takeover without MAC, linux", linuxYAML, func(c *config.Config) {
			n := c.Nodes["rm1"]
			n.NICs = nil
			c.Nodes["rm1"] = n
		}, []string{
			"nodes.rm1.nics: required for IP address takeover (the netlink backend): the MAC of the NIC the VIP's " +
				"interface maps to, as `ip link` prints it on rm1, e.g. nics: [\"00:0f:1f:6d:eb:ca\"]; it becomes the RM's [gvp] nic.eth0",
		}},
		{"linux backend, windows hosts", linuxYAML, func(c *config.Config) { c.Genesys.InstallDir = `C:\vipagent` }, []string{
			`vips.rm-vip.backend: netlink runs on Linux, but genesys.install_dir "C:\\vipagent" is a Windows path ` +
				"(use netsh or nlb, or a Linux install_dir such as /opt/vipagent)",
		}},
		{"member.N on the NLB adapter's subnet", nlbYAML, func(c *config.Config) {
			n := c.Nodes["rm2"]
			n.RMAddress = "192.0.2.12:9801"
			c.Nodes["rm2"] = n
		}, []string{
			"nodes.rm2.rm_address: 192.0.2.12 is on the NLB adapter's subnet (vips.sip-vip.address 192.0.2.200/24): " +
				"Genesys' NLB procedure forbids that NIC for member.N (in unicast mode the NLB adapters cannot reach each other); use rm2's private NIC",
		}},
		{"member.N is the VIP", netshYAML, func(c *config.Config) {
			n := c.Nodes["rm1"]
			n.RMAddress = "192.0.2.100:9801"
			c.Nodes["rm1"] = n
		}, []string{
			"nodes.rm1.rm_address: 192.0.2.100 is the VIP (vips.rm-vip): RM's member.N must be rm1's private address, on the NIC without the VIP",
		}},
		{"windows backend, linux hosts", nlbYAML, func(c *config.Config) { c.Genesys.InstallDir = "/opt/vipagent" }, []string{
			`vips.sip-vip.backend: nlb runs on Windows, but genesys.install_dir "/opt/vipagent" is a Linux path ` +
				`(use netlink or ip, or a Windows install_dir such as C:\GCTI\vipagent)`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.yaml
			if y == "" {
				y = string(config.DefaultYAML())
			}
			c := load(t, y)
			tc.edit(c)
			err := Check(c)
			var probs config.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Check: %v, want config.Problems", err)
			}
			if !errors.Is(err, reactions.ErrInvalid) {
				t.Errorf("Check error does not wrap ErrInvalid: %v", err)
			}
			if diff := cmp.Diff(tc.want, []string(probs)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if _, err := Build(c); !errors.Is(err, reactions.ErrInvalid) {
				t.Errorf("Build: %v, want the same problems", err)
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

// scriptsDir is the repository's scripts/ directory, which ships the
// wrappers generated for the built-in default.
func scriptsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// defaultFor is the built-in default with the RM hosts' install_dir of the
// installers' default for goos.
func defaultFor(t *testing.T, goos string) *config.Config {
	t.Helper()
	c := load(t, string(config.DefaultYAML()))
	if goos == "linux" {
		c.Genesys.InstallDir = "/opt/vipagent"
	}
	return c
}

// The wrappers shipped in scripts/ are what the generator writes for the
// built-in default (Windows) and for it with install_dir /opt/vipagent
// (Linux): no hand-kept copy can drift. -update rewrites them.
func TestShippedScriptsAreGenerated(t *testing.T) {
	for _, goos := range []string{"windows", "linux"} {
		t.Run(goos, func(t *testing.T) {
			files, err := Generate(defaultFor(t, goos))
			if err != nil {
				t.Fatal(err)
			}
			o, err := Build(defaultFor(t, goos))
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Wrappers) != 4 {
				t.Fatalf("%d wrappers, want 4", len(o.Wrappers))
			}
			for _, w := range o.Wrappers {
				path := filepath.Join(scriptsDir(t), w.Name)
				if *update {
					if err := os.WriteFile(path, files[w.Name], 0o755); err != nil {
						t.Fatal(err)
					}
				}
				shipped, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("shipped wrapper: %v", err)
					continue
				}
				if !bytes.Equal(shipped, files[w.Name]) {
					t.Errorf("scripts/%s differs from the generated wrapper; run go test ./agent/genesys -update and review the diff", w.Name)
				}
			}
		})
	}
}

// Every wrapper the objects name is generated, runs the command the guide
// shows, and has the line endings of its platform.
func TestWrapperFiles(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Build(load(t, tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			files, err := Render(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range o.Wrappers {
				b, ok := files[w.Name]
				if !ok {
					t.Errorf("wrapper %s is not generated", w.Name)
					continue
				}
				bat := strings.HasSuffix(w.Name, ".bat")
				if bat != (o.Platform == "windows") {
					t.Errorf("%s generated for %s hosts", w.Name, o.Platform)
				}
				if !bytes.Contains(b, []byte("\n"+w.Command+"\n")) && !bytes.Contains(b, []byte("\n"+w.Command+"\r\n")) {
					t.Errorf("%s does not run %q", w.Name, w.Command)
				}
				lines := strings.SplitAfter(string(b), "\n")
				for i, l := range lines[:len(lines)-1] {
					if crlf := strings.HasSuffix(l, "\r\n"); crlf != bat {
						t.Errorf("%s line %d: CRLF %v, want %v", w.Name, i+1, crlf, bat)
					}
				}
			}
		})
	}
}

// The .bat wrappers quote every path for cmd.exe: double quotes around
// each, % doubled, the script's own directory from %~dp0.
func TestBatWrapperCommand(t *testing.T) {
	tests := []struct {
		name string
		g    config.Genesys
		args string
		want string
	}{
		{"defaults", config.Genesys{InstallDir: `C:\GCTI\vipagent`}, "",
			`"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml" %*`},
		{"init, spaces and percent", config.Genesys{InstallDir: `C:\Program Files\vip agent`, Executable: "vip 100%.exe"}, "disable ",
			`"%~dp0vip 100%%.exe" failover --config "%~dp0vipagent.yaml" disable %*`},
		{"relative config", config.Genesys{InstallDir: `D:\vip`, ConfigFile: `conf\site & co.yaml`}, "",
			`"%~dp0vipagent.exe" failover --config "%~dp0conf\site & co.yaml" %*`},
		{"absolute config", config.Genesys{InstallDir: `D:\vip`, ConfigFile: `E:\Genesys (cfg)\vip.yaml`}, "",
			`"%~dp0vipagent.exe" failover --config "E:\Genesys (cfg)\vip.yaml" %*`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := wrapperCommand(tc.g, tc.args); got != tc.want {
				t.Errorf("wrapperCommand = %s, want %s", got, tc.want)
			}
		})
	}
}

// The generated shell wrappers hand their arguments, RM's extra ones
// included, to the binary beside them with the config, and return its exit
// status, whatever characters the install path, the binary's name and the
// config path hold.
func TestShellWrappersRunTheBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the .sh wrappers are for Linux RM hosts: nothing to run on windows")
	}
	tests := []struct {
		name, exe, configFile, script string
		args, want                    []string
	}{
		{"failover", "vipagent", "", "IPTakeOver.sh", []string{"enable", "1", "extra arg"},
			[]string{"failover", "--config", "DIR/vipagent.yaml", "enable", "1", "extra arg"}},
		{"nlb", "vip agent", "", "NLB.sh", []string{"disable", "2"},
			[]string{"failover", "--config", "DIR/vipagent.yaml", "disable", "2"}},
		{"init, odd name", `vip$agent'"x`, "site conf.yaml", "INIT_IPTakeOver.sh", nil,
			[]string{"failover", "--config", "DIR/site conf.yaml", "disable"}},
		{"init, absolute config", "vipagentd", "ABS/con$f 'x'.yaml", "INIT.sh", nil,
			[]string{"failover", "--config", "ABS/con$f 'x'.yaml", "disable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The install directory has a space: the wrappers must quote.
			dir := filepath.Join(t.TempDir(), "install dir")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			abs := filepath.Join(t.TempDir(), "etc dir")
			g := config.Genesys{InstallDir: dir, Executable: tc.exe, ConfigFile: strings.ReplaceAll(tc.configFile, "ABS", abs)}
			files, err := Render(Objects{Platform: "linux", Wrappers: wrappers(g, false)})
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(dir, files); err != nil {
				t.Fatal(err)
			}
			// The stand-in binary records its argv, one per line, and fails
			// with a distinctive status.
			fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\nexit 7\n"
			if err := os.WriteFile(filepath.Join(dir, tc.exe), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			err = exec.Command(filepath.Join(dir, tc.script), tc.args...).Run()
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
				want[i] = strings.NewReplacer("DIR", dir, "ABS", abs).Replace(want[i])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

// install-linux.sh installs the binary under the executable name the
// wrappers call, from the wrappers generated for it, into a directory with
// spaces, and refuses wrappers made for another name.
func TestLinuxInstaller(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not on Linux (windows or other): install-linux.sh installs on Linux RM hosts")
	}
	requireInstall(t)
	installer := filepath.Join(scriptsDir(t), "install-linux.sh")
	tests := []struct {
		name, exe, wrappers string // wrappers "" means generate them for exe
		wantExit            int
	}{
		{"default name, shipped wrappers", "vipagent", scriptsDir(t), 0},
		{"other name, generated wrappers", "vip agent", "", 0},
		{"other name, shipped wrappers", "vipagentd", scriptsDir(t), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "install dir")
			wr := tc.wrappers
			if wr == "" {
				wr = filepath.Join(tmp, "generated")
				g := config.Genesys{InstallDir: dir, Executable: tc.exe}
				files, err := Render(Objects{Platform: "linux", Wrappers: wrappers(g, false)})
				if err != nil {
					t.Fatal(err)
				}
				if err := Write(wr, files); err != nil {
					t.Fatal(err)
				}
			}
			// The stand-in binary records the config check the installer ends with.
			bin := filepath.Join(tmp, "build", "vipagent")
			fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\n"
			cfg := filepath.Join(tmp, "rm1.yaml")
			for path, data := range map[string]string{bin: fake, cfg: "node: rm1\n"} {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(data), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command("sh", installer, "-d", dir, "-n", tc.exe, "-w", wr, bin, cfg).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantExit {
				t.Fatalf("installer exit %d, want %d; output:\n%s", code, tc.wantExit, out)
			}
			if tc.wantExit != 0 {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("refused installation created %s: %v", dir, err)
				}
				return
			}
			b, err := os.ReadFile(filepath.Join(dir, "argv"))
			if err != nil {
				t.Fatalf("the installed binary %q did not run: %v", tc.exe, err)
			}
			want := []string{"config", "check", "--config", filepath.Join(dir, "vipagent.yaml")}
			if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")); diff != "" {
				t.Errorf("config check argv (-want +got):\n%s", diff)
			}
			for _, w := range []string{"IPTakeOver.sh", "INIT_IPTakeOver.sh", "NLB.sh", "INIT.sh", "vipagent.yaml"} {
				if _, err := os.Stat(filepath.Join(dir, w)); err != nil {
					t.Errorf("not installed: %v", err)
				}
			}
		})
	}
}
