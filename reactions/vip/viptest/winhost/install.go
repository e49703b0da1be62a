package winhost

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	ext := filepath.Ext(bin)
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
