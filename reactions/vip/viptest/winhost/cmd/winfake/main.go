// Command winfake is the fault lab's fake netsh.exe and nlb.exe (also
// wlbs.exe): one binary, installed once per host of the model under those
// names, next to a winhost.json naming the model file and the host. It
// behaves as the program its own name says; see package winhost.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

func main() { os.Exit(run(os.Args)) }

func run(args []string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "winfake:", err)
		return 2
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(exe), winhost.SidecarName))
	if err != nil {
		fmt.Fprintln(os.Stderr, "winfake:", err)
		return 2
	}
	var sc winhost.Sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		fmt.Fprintln(os.Stderr, "winfake:", err)
		return 2
	}
	p := winhost.Program{Model: winhost.File(sc.Model), Host: sc.Host}
	switch name := strings.ToLower(strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe))); name {
	case "netsh":
		return p.Netsh(args[1:], os.Stdout)
	case "nlb", "wlbs":
		return p.NLB(args[1:], os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "winfake: installed as %q; install it as netsh, nlb or wlbs\n", name)
		return 2
	}
}
