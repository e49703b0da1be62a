package winhost

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SidecarName is the file next to an installed fake that names its model
// and host.
const SidecarName = "winhost.json"

// Sidecar says which model file and which host an installed fake serves.
type Sidecar struct {
	Model string `json:"model"`
	Host  string `json:"host"`
}

// Build compiles cmd/winfake into dir for goos ("linux", "windows") and
// returns the binary's path.
func Build(dir, goos string) (string, error) {
	out := filepath.Join(dir, "winfake")
	if goos == "windows" {
		out += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", out, "github.com/vipagent/vipagent/reactions/vip/viptest/winhost/cmd/winfake")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build winfake: %v\n%s", err, b)
	}
	return out, nil
}

// Install copies the built fake into dir as netsh and nlb (with the
// binary's extension), with a sidecar naming model (as the fake will see
// the path) and host. It returns the installed netsh and nlb paths.
func Install(bin, dir, model, host string) (netsh, nlb string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", "", err
	}
	ext := ""
	if strings.EqualFold(filepath.Ext(bin), ".exe") {
		ext = ".exe"
	}
	netsh, nlb = filepath.Join(dir, "netsh"+ext), filepath.Join(dir, "nlb"+ext)
	for _, p := range []string{netsh, nlb} {
		if err := os.WriteFile(p, b, 0o755); err != nil {
			return "", "", err
		}
	}
	sc, err := json.Marshal(Sidecar{Model: model, Host: host})
	if err != nil {
		return "", "", err
	}
	return netsh, nlb, os.WriteFile(filepath.Join(dir, SidecarName), sc, 0o644)
}

// Fake reports whether exe (a path) is installed as one of the fakes: its
// base name, without extension, is netsh, nlb or wlbs.
func Fake(exe string) bool {
	switch programName(exe) {
	case "netsh", "nlb", "wlbs":
		return true
	}
	return false
}

func programName(exe string) string {
	return strings.ToLower(strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe)))
}

// Main runs the fake program installed at exe with args (after the
// program), answering on stdout, and returns its exit code. It reads the
// sidecar next to exe to find its model and host. cmd/winfake is this, and
// a test binary installed as the fakes calls it from TestMain, so tests
// under Wine need no Go toolchain.
func Main(exe string, args []string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(exe), SidecarName))
	if err != nil {
		fmt.Fprintln(stderr, "winfake:", err)
		return 2
	}
	var sc Sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		fmt.Fprintln(stderr, "winfake:", err)
		return 2
	}
	p := Program{Model: File(sc.Model), Host: sc.Host}
	switch name := programName(exe); name {
	case "netsh":
		return p.Netsh(args, stdout)
	case "nlb", "wlbs":
		return p.NLB(args, stdout)
	default:
		fmt.Fprintf(stderr, "winfake: installed as %q; install it as netsh, nlb or wlbs\n", name)
		return 2
	}
}
