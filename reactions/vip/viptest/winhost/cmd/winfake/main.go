// Command winfake is the fault lab's fake netsh.exe and nlb.exe (also
// wlbs.exe): one binary, installed once per host of the model under those
// names, next to a winhost.json naming the model file and the host. It
// behaves as the program its own name says; see package winhost.
package main

import (
	"fmt"
	"os"

	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

func main() {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "winfake:", err)
		os.Exit(2)
	}
	os.Exit(winhost.Main(exe, os.Args[1:], os.Stdout, os.Stderr))
}
